import type pg from 'pg';
import { pool, transaction } from '../db/client';
import {
  builtVersion,
  clearDay,
  daySource,
  dayDimensions,
  dayVersions,
  dimensionDay,
  insertDayRows,
  insertDaySketches,
  markBuilt,
  type DimensionDayRow,
} from '../rollups/day-cache';
import { VisitorUnion } from './sketches';
import { HOUR, MINUTE } from '@/lib/time';

// Compaction of settled days. The workers keep one rollup row per day, dimension value and
// source partition, each with its visitor sketch inline; a 30-day breakdown then scans ~6 wide
// rows per value and day. Once a day is settled (ended SETTLED_AFTER_MS ago, well past the
// workers' allowed lateness), the web process folds it into `rollup_days` (narrow sums, one row
// per value) and `rollup_day_sketches` (one merged sketch per value). It is a cache, never the
// truth: every change to a day's rollups also touches that day's totals rows, so a day whose
// totals' newest `updated_at` differs from the version it was compacted from is read from
// `rollups` again (and recompacted in the background). The statements: lib/rollups/day-cache.ts.

export const SETTLED_AFTER_MS = 2 * HOUR;
/** A day is only compacted when its rollups have not changed for this long. */
const QUIET_MS = MINUTE;
/** Precision of breakdown sketches in the cache (totals keep the workers' 14). */
export const BREAKDOWN_PRECISION = 12;

/** Which of these day buckets have a compacted copy that is still current. */
export async function freshDays(siteId: string, days: number[]): Promise<{ fresh: Set<number>; stale: number[] }> {
  if (days.length === 0) return { fresh: new Set(), stale: [] };
  const rows = await dayVersions(
    pool(),
    siteId,
    days.map((d) => new Date(d).toISOString()),
  );
  const fresh = new Set<number>();
  const stale: number[] = [];
  for (const r of rows) {
    if (r.built !== null && r.built.getTime() === r.src.getTime()) fresh.add(r.bucket.getTime());
    else stale.push(r.bucket.getTime());
  }
  return { fresh, stale };
}

/** Compacts one day of one site (idempotent; concurrent callers serialise on an advisory lock). Returns rows written. */
export async function compactDay(siteId: string, day: number): Promise<number> {
  const dayIso = new Date(day).toISOString();
  return transaction(pool(), async (c) => {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rollup_days:${siteId}:${day}`]);
    // The version is read before the data (READ COMMITTED: each statement sees all commits so
    // far), so the copy is never older than the version it claims; a newer copy is harmless.
    const src = await daySource(c, siteId, dayIso, QUIET_MS);
    const source = src?.src;
    // A day changed in the last minute may still have a transaction in flight with the same
    // timestamp; leave it to a later pass.
    if (!source || !src.quiet) return 0;
    if ((await builtVersion(c, siteId, dayIso))?.getTime() === source.getTime()) return 0;
    await clearDay(c, siteId, dayIso);
    const dims = await dayDimensions(c, siteId, dayIso);
    let written = 0;
    // One dimension at a time keeps memory bounded by the largest dimension of the day.
    for (const dimension of dims) {
      const rows = await dimensionDay(c, siteId, dayIso, dimension);
      written += await insertDay(c, siteId, dayIso, dimension, rows);
    }
    await markBuilt(c, siteId, dayIso, source);
    return written;
  });
}

async function insertDay(
  c: pg.PoolClient,
  siteId: string,
  dayIso: string,
  dimension: string,
  rows: DimensionDayRow[],
): Promise<number> {
  const precision = dimension === '' ? 0 : BREAKDOWN_PRECISION;
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000);
    await insertDayRows(c, siteId, dimension, dayIso, chunk);
    const sketches = chunk
      .map((r) => {
        const u = new VisitorUnion(precision);
        for (const s of r.sketches ?? []) u.add(s);
        return { value: r.value, json: u.toJSON() };
      })
      .filter((s) => s.json !== null);
    if (sketches.length) {
      await insertDaySketches(
        c,
        siteId,
        dimension,
        dayIso,
        sketches.map((s) => ({ value: s.value, json: JSON.stringify(s.json) })),
      );
    }
  }
  return rows.length;
}

// Background compaction: the dashboard never waits for it. One day at a time per process; a
// second web process compacting the same day waits on the advisory lock and then finds it done.
const queue = new Map<string, { siteId: string; day: number }>();
let draining = false;

export function scheduleCompaction(siteId: string, days: number[]): void {
  for (const day of days) queue.set(`${siteId}|${day}`, { siteId, day });
  if (draining || queue.size === 0) return;
  draining = true;
  void (async () => {
    while (queue.size) {
      const [key, job] = queue.entries().next().value as [string, { siteId: string; day: number }];
      queue.delete(key);
      try {
        await compactDay(job.siteId, job.day);
      } catch (e) {
        console.error(
          `[web] compacting ${job.siteId} ${new Date(job.day).toISOString()} failed: ${(e as Error).message}`,
        );
      }
    }
    draining = false;
  })();
}
