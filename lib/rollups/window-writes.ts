import type pg from 'pg';
import { HyperLogLog, type HyperLogLogJson, type Json } from '@/lib/stream';

// The rollups job's writes of its own columns (pageviews, events, visitors), and reconcile's folds
// of late events: minute rows are *replaced* by a window's value for one source partition, hour and
// day rows receive differences and merged sketches. The diffing lives with the job
// (workers/rollups/rollup-sink.ts); these are the statements. All inside the caller's transaction.

/** A minute row as the rollups job writes it: visitors as sketch JSON text. */
export interface WindowRow {
  dimension: string;
  value: string;
  pageviews: number;
  events: number;
  visitors: string;
}

export type Granularity = 'minute' | 'hour' | 'day';
export type AddDelta = { dimension: string; value: string; dPageviews: number; dEvents: number; visitors: string };

/** One minute of one source partition, every dimension, locked for the rewrite that follows. */
export async function lockMinuteRows(
  tx: pg.PoolClient,
  siteId: string,
  minute: number,
  partition: number,
): Promise<
  { dimension: string; value: string; pageviews: number; events: number; visitors: HyperLogLogJson | null }[]
> {
  const old = await tx.query<{
    dimension: string;
    value: string;
    pageviews: number;
    events: number;
    visitors: HyperLogLogJson | null;
  }>(
    `SELECT dimension, value, pageviews, events, visitors FROM rollups
     WHERE site_id = $1 AND granularity = 'minute' AND bucket = $2 AND source_partition = $3 FOR UPDATE`,
    [siteId, new Date(minute).toISOString(), partition],
  );
  return old.rows;
}

/** Replaces the rows' counts and sketches (a window's value for its partition is complete). */
export async function upsertReplace(
  tx: pg.PoolClient,
  siteId: string,
  granularity: Granularity,
  bucket: number,
  partition: number,
  rows: WindowRow[],
): Promise<void> {
  await tx.query(
    `INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, pageviews, events, visitors, updated_at)
     SELECT $1, $2::"Granularity", $3, u.dimension, u.value, $4, u.pageviews, u.events, u.visitors, now()
     FROM unnest($5::text[], $6::text[], $7::int[], $8::int[], $9::jsonb[]) AS u(dimension, value, pageviews, events, visitors)
     ON CONFLICT (site_id, granularity, bucket, dimension, value, source_partition) DO UPDATE
       SET pageviews = EXCLUDED.pageviews, events = EXCLUDED.events, visitors = EXCLUDED.visitors, updated_at = now()`,
    [siteId, granularity, new Date(bucket).toISOString(), partition, ...columns(rows)],
  );
}

/**
 * Adds count deltas and merges visitor sketches into the rows of each (granularity, bucket) target
 * — one locking read and one upsert for all of them (a window writes its hour and its day together).
 */
export async function upsertAdd(
  tx: pg.PoolClient,
  siteId: string,
  targets: readonly (readonly [Granularity, number])[],
  partition: number,
  deltas: AddDelta[],
): Promise<void> {
  const rows = targets.flatMap(([granularity, ms]) =>
    deltas.map((d) => ({ ...d, granularity, ms, bucket: new Date(ms).toISOString() })),
  );
  const existing = await tx.query<{
    granularity: string;
    ms: number;
    dimension: string;
    value: string;
    visitors: HyperLogLogJson | null;
  }>(
    `SELECT r.granularity::text, (extract(epoch FROM r.bucket) * 1000)::float8 AS ms, r.dimension, r.value, r.visitors FROM rollups r
     JOIN unnest($3::text[], $4::timestamptz[], $5::text[], $6::text[]) AS k(granularity, bucket, dimension, value)
       ON k.granularity::"Granularity" = r.granularity AND k.bucket = r.bucket AND k.dimension = r.dimension AND k.value = r.value
     WHERE r.site_id = $1 AND r.source_partition = $2 FOR UPDATE OF r`,
    [
      siteId,
      partition,
      rows.map((r) => r.granularity),
      rows.map((r) => r.bucket),
      rows.map((r) => r.dimension),
      rows.map((r) => r.value),
    ],
  );
  const sketchKey = (granularity: string, bucket: number, dimension: string, value: string) =>
    `${granularity}\u001f${bucket}\u001f${dimension}\u001f${value}`;
  const sketches = new Map(
    existing.rows.map((r) => [sketchKey(r.granularity, r.ms, r.dimension, r.value), r.visitors]),
  );
  // null: the stored sketch already holds every visitor of the delta (no register rose), so it is
  // kept as it is rather than re-encoded and re-written (a dense sketch is 16 kB of TOASTed JSON).
  const merged = rows.map((d) => {
    const prev = sketches.get(sketchKey(d.granularity, d.ms, d.dimension, d.value));
    if (!prev) return d.visitors;
    const sketch = HyperLogLog.fromJSON(prev);
    return sketch.mergeRaised(HyperLogLog.fromJSON(JSON.parse(d.visitors) as Json))
      ? JSON.stringify(sketch.toJSON())
      : null;
  });
  await tx.query(
    `INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, pageviews, events, visitors, updated_at)
     SELECT $1, u.granularity::"Granularity", u.bucket, u.dimension, u.value, $2, u.pageviews, u.events, u.visitors, now()
     FROM unnest($3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::int[], $8::int[], $9::jsonb[]) AS u(granularity, bucket, dimension, value, pageviews, events, visitors)
     ON CONFLICT (site_id, granularity, bucket, dimension, value, source_partition) DO UPDATE
       SET pageviews = rollups.pageviews + EXCLUDED.pageviews, events = rollups.events + EXCLUDED.events,
           visitors = COALESCE(EXCLUDED.visitors, rollups.visitors), updated_at = now()`,
    [
      siteId,
      partition,
      rows.map((r) => r.granularity),
      rows.map((r) => r.bucket),
      rows.map((r) => r.dimension),
      rows.map((r) => r.value),
      rows.map((r) => r.dPageviews),
      rows.map((r) => r.dEvents),
      merged,
    ],
  );
}

function columns(rows: WindowRow[]): [string[], string[], number[], number[], string[]] {
  return [
    rows.map((r) => r.dimension),
    rows.map((r) => r.value),
    rows.map((r) => r.pageviews),
    rows.map((r) => r.events),
    rows.map((r) => r.visitors),
  ];
}
