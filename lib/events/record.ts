import { z } from 'zod';

// The record the collect endpoint produces to the `events` topic and every job consumes.
// Versioned so a job can refuse (dead-letter) what it does not understand instead of guessing.

export const eventRecordSchema = z.object({
  v: z.literal(1),
  eventId: z.uuid(),
  siteId: z.uuid(),
  visitorId: z.string().min(1).max(64),
  name: z.string().min(1).max(120),
  url: z.string().max(2000),
  /** Server time of acceptance, ms since epoch: the event time the windows use. */
  ts: z.number().int(),
});

export type EventRecord = z.infer<typeof eventRecordSchema>;

/** Partition key: one visitor's events stay on one partition, in order. */
export function eventKey(e: Pick<EventRecord, 'siteId' | 'visitorId'>): string {
  return `${e.siteId}:${e.visitorId}`;
}
