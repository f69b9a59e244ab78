import type pg from 'pg';
import { HyperLogLog, type HyperLogLogJson, type Json } from '@/lib/stream';
import { splitKey, type MinuteStats } from './minute-stats';
import { HOUR } from '@/lib/time';

// Writes one window's value for one source partition. Minute rows are *replaced* (the window's
// value is complete for this partition, whether early, on time or a late firing). Hour and day
// rows receive the *difference* to what the minute rows held before, and visitor sketches are
// merged into them (a union, so merging twice is harmless). Changes of totals and content
// groups also go to minute_partials for the peaks job. All inside the caller's transaction.

export interface WindowWrite {
  siteId: string;
  minute: number;
  /** Start of the site's local day containing the minute. */
  dayStart: number;
  partition: number;
  stats: MinuteStats;
}

interface Row {
  dimension: string;
  value: string;
  pageviews: number;
  events: number;
  visitors: string;
}

export async function writeWindow(tx: pg.PoolClient, w: WindowWrite): Promise<boolean> {
  const old = await tx.query<{
    dimension: string;
    value: string;
    pageviews: number;
    events: number;
    visitors: HyperLogLogJson | null;
  }>(
    `SELECT dimension, value, pageviews, events, visitors FROM rollups
     WHERE site_id = $1 AND granularity = 'minute' AND bucket = $2 AND source_partition = $3 FOR UPDATE`,
    [w.siteId, new Date(w.minute).toISOString(), w.partition],
  );
  const before = new Map(old.rows.map((r) => [`${r.dimension}\u001f${r.value}`, r]));
  const rows: Row[] = [];
  const deltas: (Row & { dPageviews: number; dEvents: number })[] = [];
  for (const [key, cell] of w.stats) {
    const [dimension, value] = splitKey(key);
    const visitors = JSON.stringify(cell.visitors.toJSON());
    const prev = before.get(key);
    const row = { dimension, value, pageviews: cell.pageviews, events: cell.events, visitors };
    const dPageviews = cell.pageviews - (prev?.pageviews ?? 0);
    const dEvents = cell.events - (prev?.events ?? 0);
    if (prev && dPageviews === 0 && dEvents === 0 && JSON.stringify(prev.visitors) === visitors) continue;
    rows.push(row);
    deltas.push({ ...row, dPageviews, dEvents });
  }
  if (rows.length === 0) return false;
  await upsertReplace(tx, w.siteId, 'minute', w.minute, w.partition, rows);
  await upsertAdd(
    tx,
    w.siteId,
    [
      ['hour', Math.floor(w.minute / HOUR) * HOUR],
      ['day', w.dayStart],
    ],
    w.partition,
    deltas,
  );
  const partials = deltas.filter(
    (d) => (d.dimension === '' || d.dimension === 'content_group') && (d.dPageviews !== 0 || d.dimension === ''),
  );
  if (partials.length) {
    await tx.query(
      `INSERT INTO minute_partials (site_id, content_group, minute, source_partition, pageviews_delta, visitors)
       SELECT $1, u.grp, $2, $3, u.delta, u.visitors FROM unnest($4::text[], $5::int[], $6::jsonb[]) AS u(grp, delta, visitors)`,
      [
        w.siteId,
        new Date(w.minute).toISOString(),
        w.partition,
        partials.map((p) => p.value),
        partials.map((p) => p.dPageviews),
        partials.map((p) => p.visitors),
      ],
    );
  }
  return true;
}

async function upsertReplace(
  tx: pg.PoolClient,
  siteId: string,
  granularity: string,
  bucket: number,
  partition: number,
  rows: Row[],
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

export type Granularity = 'minute' | 'hour' | 'day';
export type AddDelta = { dimension: string; value: string; dPageviews: number; dEvents: number; visitors: string };

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

function columns(rows: Row[]): [string[], string[], number[], number[], string[]] {
  return [
    rows.map((r) => r.dimension),
    rows.map((r) => r.value),
    rows.map((r) => r.pageviews),
    rows.map((r) => r.events),
    rows.map((r) => r.visitors),
  ];
}
