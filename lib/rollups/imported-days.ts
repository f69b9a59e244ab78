import type pg from 'pg';

// Plausible's aggregates as day rows under the import's source partition (workers/imports/run-import.ts):
// the days of a file replace the same days of an earlier import, so importing again changes nothing.

/** Deletes one local day's imported rows of these dimensions. */
export async function deleteImportedDay(
  tx: pg.PoolClient,
  siteId: string,
  bucket: Date,
  partition: number,
  dimensions: string[],
): Promise<void> {
  await tx.query(
    "DELETE FROM rollups WHERE site_id = $1 AND granularity = 'day' AND bucket = $2 AND source_partition = $3 AND dimension = ANY($4)",
    [siteId, bucket, partition, dimensions],
  );
}

export interface ImportedDayRow {
  siteId: string;
  bucket: Date;
  dimension: string;
  value: string;
  partition: number;
  pageviews: number;
  /** Sketch JSON text. */
  visitors: string;
  sessions: number;
  bounces: number;
  durationMs: number;
  visitPageviews: number;
}

export async function insertImportedDay(tx: pg.PoolClient, r: ImportedDayRow): Promise<void> {
  await tx.query(
    `INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, pageviews, visitors, sessions, bounces, duration_ms, visit_pageviews, updated_at)
     VALUES ($1, 'day', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())`,
    [
      r.siteId,
      r.bucket,
      r.dimension,
      r.value,
      r.partition,
      r.pageviews,
      r.visitors,
      r.sessions,
      r.bounces,
      r.durationMs,
      r.visitPageviews,
    ],
  );
}
