import type pg from 'pg';
import { HyperLogLog, type HyperLogLogJson, type Json } from '@/lib/stream';
import { splitInsightKey, type InsightStats } from './event-stats';
import { HOUR } from '@/lib/time';

// Writes one minute window of one source partition to event_rollups, as rollup-sink.ts does for
// `rollups`: the minute rows are *replaced* (early, on-time and late firings all carry the whole
// minute), hour and day rows receive the *difference* to the minute rows' previous values and a
// sketch merge (a union: merging twice is harmless). Inside the caller's transaction.

interface Row {
  kind: string;
  value: string;
  count: number;
  visitors: string;
  visibleMs: number;
  scroll: number;
  samples: number;
}

export async function writeInsightWindow(
  tx: pg.PoolClient,
  w: { siteId: string; minute: number; dayStart: number; partition: number; stats: InsightStats },
): Promise<number> {
  // A window of plain pageviews has no cell: nothing below would be written (rows come only from
  // cells), so the locking read of its minute's rows is skipped — it was most insights firings.
  if (w.stats.cells.size === 0) return 0;
  const old = await tx.query<{
    kind: string;
    value: string;
    count: number;
    sum_visible_ms: string;
    sum_scroll: string;
    scroll_samples: number;
    visitors: HyperLogLogJson | null;
  }>(
    `SELECT kind, value, count, sum_visible_ms, sum_scroll, scroll_samples, visitors FROM event_rollups
      WHERE site_id = $1 AND granularity = 'minute' AND bucket = $2 AND source_partition = $3 FOR UPDATE`,
    [w.siteId, new Date(w.minute).toISOString(), w.partition],
  );
  const before = new Map(old.rows.map((r) => [`${r.kind}\u001f${r.value}`, r]));
  const rows: Row[] = [];
  const deltas: Row[] = [];
  for (const [key, c] of w.stats.cells) {
    const [kind, value] = splitInsightKey(key);
    const visitors = JSON.stringify(c.visitors.toJSON());
    const prev = before.get(key);
    const d = {
      kind,
      value,
      count: c.count - (prev?.count ?? 0),
      visibleMs: c.visibleMs - Number(prev?.sum_visible_ms ?? 0),
      scroll: c.scroll - Number(prev?.sum_scroll ?? 0),
      samples: c.scrollSamples - (prev?.scroll_samples ?? 0),
      visitors,
    };
    if (prev && d.count === 0 && d.visibleMs === 0 && d.samples === 0 && JSON.stringify(prev.visitors) === visitors)
      continue;
    rows.push({
      kind,
      value,
      count: c.count,
      visitors,
      visibleMs: c.visibleMs,
      scroll: c.scroll,
      samples: c.scrollSamples,
    });
    deltas.push(d);
  }
  if (rows.length === 0) return 0;
  await upsert(tx, w.siteId, 'minute', w.minute, w.partition, rows, 'replace');
  await upsert(tx, w.siteId, 'hour', Math.floor(w.minute / HOUR) * HOUR, w.partition, deltas, 'add');
  await upsert(tx, w.siteId, 'day', w.dayStart, w.partition, deltas, 'add');
  return rows.length;
}

/** Adds one late event's cells to every granularity of a partition no operator owns (−1). */
export async function writeInsightDelta(
  tx: pg.PoolClient,
  w: { siteId: string; minute: number; dayStart: number; partition: number; stats: InsightStats },
): Promise<void> {
  const rows: Row[] = [...w.stats.cells].map(([key, c]) => {
    const [kind, value] = splitInsightKey(key);
    return {
      kind,
      value,
      count: c.count,
      visitors: JSON.stringify(c.visitors.toJSON()),
      visibleMs: c.visibleMs,
      scroll: c.scroll,
      samples: c.scrollSamples,
    };
  });
  await upsert(tx, w.siteId, 'minute', w.minute, w.partition, rows, 'add');
  await upsert(tx, w.siteId, 'hour', Math.floor(w.minute / HOUR) * HOUR, w.partition, rows, 'add');
  await upsert(tx, w.siteId, 'day', w.dayStart, w.partition, rows, 'add');
}

async function upsert(
  tx: pg.PoolClient,
  siteId: string,
  granularity: 'minute' | 'hour' | 'day',
  bucket: number,
  partition: number,
  rows: Row[],
  mode: 'replace' | 'add',
): Promise<void> {
  let sketches = rows.map((r) => r.visitors);
  if (mode === 'add') {
    const existing = await tx.query<{ kind: string; value: string; visitors: HyperLogLogJson | null }>(
      `SELECT r.kind, r.value, r.visitors FROM event_rollups r
         JOIN unnest($5::text[], $6::text[]) AS k(kind, value) ON k.kind = r.kind AND k.value = r.value
        WHERE r.site_id = $1 AND r.granularity = $2::"Granularity" AND r.bucket = $3 AND r.source_partition = $4 FOR UPDATE OF r`,
      [
        siteId,
        granularity,
        new Date(bucket).toISOString(),
        partition,
        rows.map((r) => r.kind),
        rows.map((r) => r.value),
      ],
    );
    const prev = new Map(existing.rows.map((r) => [`${r.kind}\u001f${r.value}`, r.visitors]));
    sketches = rows.map((r) => {
      const p = prev.get(`${r.kind}\u001f${r.value}`);
      return p
        ? JSON.stringify(
            HyperLogLog.fromJSON(p)
              .merge(HyperLogLog.fromJSON(JSON.parse(r.visitors) as Json))
              .toJSON(),
          )
        : r.visitors;
    });
  }
  const set =
    mode === 'replace'
      ? 'count = EXCLUDED.count, visitors = EXCLUDED.visitors, sum_visible_ms = EXCLUDED.sum_visible_ms, sum_scroll = EXCLUDED.sum_scroll, scroll_samples = EXCLUDED.scroll_samples'
      : `count = event_rollups.count + EXCLUDED.count, visitors = EXCLUDED.visitors, sum_visible_ms = event_rollups.sum_visible_ms + EXCLUDED.sum_visible_ms,
         sum_scroll = event_rollups.sum_scroll + EXCLUDED.sum_scroll, scroll_samples = event_rollups.scroll_samples + EXCLUDED.scroll_samples`;
  await tx.query(
    `INSERT INTO event_rollups (site_id, granularity, bucket, kind, value, source_partition, count, visitors, sum_visible_ms, sum_scroll, scroll_samples, updated_at)
     SELECT $1, $2::"Granularity", $3, u.kind, u.value, $4, u.count, u.visitors, u.vis, u.scroll, u.samples, now()
       FROM unnest($5::text[], $6::text[], $7::int[], $8::jsonb[], $9::bigint[], $10::bigint[], $11::int[]) AS u(kind, value, count, visitors, vis, scroll, samples)
     ON CONFLICT (site_id, granularity, bucket, kind, value, source_partition) DO UPDATE SET ${set}, updated_at = now()`,
    [
      siteId,
      granularity,
      new Date(bucket).toISOString(),
      partition,
      rows.map((r) => r.kind),
      rows.map((r) => r.value),
      rows.map((r) => r.count),
      sketches,
      rows.map((r) => r.visibleMs),
      rows.map((r) => r.scroll),
      rows.map((r) => r.samples),
    ],
  );
}
