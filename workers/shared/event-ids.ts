import type pg from 'pg';
import { hooksFromEnv } from '../consumer/hooks';

/**
 * Inserts event ids this job has not applied yet and returns the records that are new. Everything a
 * job counts must come from the returned set: that is what makes re-sends and replays harmless.
 * What was left out is a duplicate; the runtime books it (workers/consumer/dead-letters.ts).
 */
export async function claimEventIds<T extends { record: { eventId: string } }>(
  tx: pg.PoolClient,
  job: string,
  records: T[],
): Promise<T[]> {
  if (records.length === 0) return [];
  if (hooksFromEnv().variant === 'no-event-id-dedup') return records; // negative control only
  const r = await tx.query<{ event_id: string }>(
    `INSERT INTO event_ids (job, event_id) SELECT $1, id FROM unnest($2::uuid[]) AS id ON CONFLICT DO NOTHING RETURNING event_id`,
    [job, records.map((x) => x.record.eventId)],
  );
  const fresh = new Set(r.rows.map((x) => x.event_id));
  // A re-send can sit in the same batch as its original: only the first occurrence is new.
  // PostgreSQL returns a uuid in lower case; a record produced before collect lowered its id (an
  // events-API client's upper-case UUID) must not look like a duplicate of itself.
  return records.filter((x) => fresh.delete(x.record.eventId.toLowerCase()));
}
