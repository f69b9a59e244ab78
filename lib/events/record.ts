import { z } from 'zod';
import { MAX_PROP_KEY_BYTES, MAX_PROP_VALUE_BYTES, MAX_PROPS } from '../collect/payload';
import { DAY } from '@/lib/time';

// The record the collect endpoint produces to the `events` topic and every job consumes:
// validated, identified and enriched once, at the edge. Versioned so a job can dead-letter what
// it does not understand instead of guessing.

/** Times a JavaScript Date (and PostgreSQL timestamptz) can hold: beyond it `toISOString()` throws. */
const MAX_TIME = 8.64e15;

export const channels = ['direct', 'search', 'social', 'email', 'paid', 'ai', 'referral', 'internal'] as const;
export type Channel = (typeof channels)[number];

export const eventRecordSchema = z.object({
  v: z.literal(1),
  eventId: z.uuid(),
  siteId: z.uuid(),
  visitorId: z.string().min(1).max(64),
  name: z.string().min(1).max(120),
  url: z.string().max(2000),
  hostname: z.string().max(255).default(''),
  // Bytes, not characters: the path is a rollup key, and a btree index row holds ~2.7 kB.
  path: z
    .string()
    .max(2000)
    .refine((s) => Buffer.byteLength(s, 'utf8') <= 2000, 'path over 2000 bytes')
    .default('/'),
  referrer: z.string().max(2000).optional(),
  referrerHost: z.string().max(255).optional(),
  channel: z.enum(channels).default('direct'),
  utm: z
    .object({
      source: z.string().max(200).optional(),
      medium: z.string().max(200).optional(),
      campaign: z.string().max(200).optional(),
      term: z.string().max(200).optional(),
      content: z.string().max(200).optional(),
    })
    .optional(),
  /** Ad click ids present on the landing URL (gclid, fbclid, msclkid, …): marks paid traffic. */
  clickIds: z.array(z.string().max(20)).max(10).optional(),
  // The collect payload's limits again: a record from any producer must be as storable as one from collect.
  props: z
    .record(
      z.string().max(MAX_PROP_KEY_BYTES),
      z.union([
        z.string().refine((v) => Buffer.byteLength(v, 'utf8') <= MAX_PROP_VALUE_BYTES, 'property value too long'),
        z.number(),
        z.boolean(),
      ]),
    )
    .refine((p) => Object.keys(p).length <= MAX_PROPS, `at most ${MAX_PROPS} properties`)
    .optional(),
  engagement: z.object({ visibleMs: z.number().int(), scrollDepth: z.number().int() }).optional(),
  /**
   * A server-side request (the events API's `request` events, sent by @eddy/node): counted as a
   * server request only — never a pageview, visitor or visit (workers/rollups/minute-stats.ts,
   * workers/sessions, lib/analytics/event-engine.ts). Optional, so version 1 records stay valid.
   */
  request: z
    .object({
      method: z.string().min(1).max(16),
      status: z.number().int().min(100).max(599),
      durationMs: z.number().min(0).max(DAY),
    })
    .optional(),
  device: z.enum(['desktop', 'mobile', 'tablet', 'other']).default('other'),
  browser: z.string().max(60).default('Unknown'),
  os: z.string().max(60).default('Unknown'),
  /** ISO 3166-1 alpha-2, when known. */
  country: z.string().length(2).optional(),
  /** Event time (server clock, corrected for the client-reported age of the event), ms since epoch. */
  ts: z.number().int().min(0).max(MAX_TIME),
  /** When the collect endpoint accepted it, ms since epoch. */
  receivedAt: z.number().int().min(0).max(MAX_TIME).optional(),
});

export type EventRecord = z.infer<typeof eventRecordSchema>;
export type EventRecordInput = z.input<typeof eventRecordSchema>;

/** Partition key: one visitor's events stay on one partition, in order. */
export function eventKey(e: Pick<EventRecord, 'siteId' | 'visitorId'>): string {
  return `${e.siteId}:${e.visitorId}`;
}
