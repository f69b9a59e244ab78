import type pg from 'pg';
import { lockMinuteRows, upsertAdd, upsertReplace, type WindowRow } from '@/lib/rollups/window-writes';
import { splitKey, type MinuteStats } from './minute-stats';
import { HOUR } from '@/lib/time';

// Writes one window's value for one source partition. Minute rows are *replaced* (the window's
// value is complete for this partition, whether early, on time or a late firing). Hour and day
// rows receive the *difference* to what the minute rows held before, and visitor sketches are
// merged into them (a union, so merging twice is harmless). Changes of totals and content
// groups also go to minute_partials for the peaks job. All inside the caller's transaction; the
// statements on `rollups` are its owner's (lib/rollups/window-writes.ts).

export interface WindowWrite {
  siteId: string;
  minute: number;
  /** Start of the site's local day containing the minute. */
  dayStart: number;
  partition: number;
  stats: MinuteStats;
}

export async function writeWindow(tx: pg.PoolClient, w: WindowWrite): Promise<boolean> {
  const old = await lockMinuteRows(tx, w.siteId, w.minute, w.partition);
  const before = new Map(old.map((r) => [`${r.dimension}\u001f${r.value}`, r]));
  const rows: WindowRow[] = [];
  const deltas: (WindowRow & { dPageviews: number; dEvents: number })[] = [];
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
