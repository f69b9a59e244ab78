import type pg from 'pg';

// The sessions job's columns of `rollups` (sessions, bounces, duration, the visits' pageviews):
// signed deltas added to the rows the rollups job also writes (other columns, same keys — the two
// jobs serialise per site: workers/shared/site-locks.ts). Inside the caller's transaction.

export interface VisitDelta {
  site: string;
  granularity: string;
  bucket: number;
  dimension: string;
  value: string;
  sessions: number;
  bounces: number;
  duration: number;
  pageviews: number;
}

/** Adds the deltas in one statement, under the job's source partition. */
export async function addVisitDeltas(tx: pg.PoolClient, partition: number, list: VisitDelta[]): Promise<void> {
  await tx.query(
    `INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, sessions, bounces, duration_ms, visit_pageviews, updated_at)
     SELECT u.site, u.granularity::"Granularity", u.bucket, u.dimension, u.value, $1, u.sessions, u.bounces, u.duration, u.pageviews, now()
     FROM unnest($2::uuid[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::int[], $8::int[], $9::bigint[], $10::int[])
       AS u(site, granularity, bucket, dimension, value, sessions, bounces, duration, pageviews)
     ON CONFLICT (site_id, granularity, bucket, dimension, value, source_partition) DO UPDATE
       SET sessions = rollups.sessions + EXCLUDED.sessions, bounces = rollups.bounces + EXCLUDED.bounces,
           duration_ms = rollups.duration_ms + EXCLUDED.duration_ms, visit_pageviews = rollups.visit_pageviews + EXCLUDED.visit_pageviews, updated_at = now()`,
    [
      partition,
      list.map((r) => r.site),
      list.map((r) => r.granularity),
      list.map((r) => new Date(r.bucket).toISOString()),
      list.map((r) => r.dimension),
      list.map((r) => r.value),
      list.map((r) => r.sessions),
      list.map((r) => r.bounces),
      list.map((r) => r.duration),
      list.map((r) => r.pageviews),
    ],
  );
}
