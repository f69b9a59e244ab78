import type pg from 'pg';
import { transaction } from '@/lib/db/client';
import type { Publisher } from '@/lib/bus';
import type { Env } from '@/lib/env';
import { publishSiteChanges } from '@/lib/live/publish';
import {
  earlyFiringTrigger,
  HyperLogLog,
  SilenceProgress,
  slidingWindows,
  windowOperator,
  type Aggregate,
  type HyperLogLogJson,
  type Json,
  stateCodec,
  type WindowOperator,
} from '@/lib/stream';
import { localDate, type SiteDimensionTable } from '../shared/dimensions';
import { rederiveSitePeaks } from './rederive';
import { MINUTE } from '@/lib/time';
import { scheduledJob, type ScheduledJob } from '../shared/scheduled-job';

// One snapshot per sliding-window operator (versioned by lib/stream, checked by restore()), the
// zone each site's peak rows were cut with (absent in checkpoints from before it was kept), and
// where the input's silence is measured from: the newest partial's minute and when partials last
// arrived (absent before 2026-12-07).
type Checkpoint = {
  operators: Json[];
  dimensionVersion: number;
  timezones: { [siteId: string]: string };
  input?: { maxMinute: number; lastRecordAt: number };
};
const CHECKPOINT = stateCodec<Checkpoint>({
  name: 'peaks checkpoint',
  version: 1,
  decode: (f) => {
    const zones = f.has('timezones') ? f.object('timezones') : {};
    const timezones: Checkpoint['timezones'] = {};
    for (const [site, zone] of Object.entries(zones)) if (typeof zone === 'string') timezones[site] = zone;
    const input = (f.has('input') ? f.object('input') : {}) as { maxMinute?: unknown; lastRecordAt?: unknown };
    return {
      operators: f.array('operators'),
      dimensionVersion: f.has('dimensionVersion') ? f.number('dimensionVersion') : 0,
      timezones,
      ...(typeof input.maxMinute === 'number' && typeof input.lastRecordAt === 'number'
        ? { input: { maxMinute: input.maxMinute, lastRecordAt: input.lastRecordAt } }
        : {}),
    };
  },
});

// Peak-use windows: sliding windows per site and per content group ('' = whole site), 60 min
// sliding by 5 min and 5 min sliding by 1 min (the live view). Input is the changelog of
// per-minute, per-partition partials the rollups job writes in its transactions
// (minute_partials), which re-keys the stream by site; each pass consumes a slice of it, feeds
// the operators, keeps each day's busiest window (in the site's timezone) in peak_windows,
// deletes what it consumed and checkpoints its operators — all in one transaction, so the
// output is exactly once. One instance runs at a time per schema (a transaction-level advisory
// lock on (LOCK_ID, schema)): a replay (workers/ops/replay.ts) runs this job into a scratch
// schema of the same database while the live job runs, and must not skip its passes whenever the
// live one holds the lock (it once did, and replays then missed the last windows).

export const PEAKS_JOB = 'peaks';
export const PEAK_SIZES = [
  { sizeMin: 60, slideMin: 5 },
  { sizeMin: 5, slideMin: 1 },
] as const;
const LOCK_ID = 0x0eddbea7;

interface Traffic {
  pageviews: number;
  visitors: HyperLogLog;
}
interface Partial {
  pageviews: number;
  visitors: HyperLogLogJson | null;
}
type Op = WindowOperator<string, Partial, { pageviews: number; visitors: number }>;

function trafficAggregate(): Aggregate<Partial, Traffic, { pageviews: number; visitors: number }> {
  return {
    create: () => ({ pageviews: 0, visitors: new HyperLogLog(14) }),
    add(acc, p) {
      acc.pageviews += p.pageviews;
      if (p.visitors) acc.visitors.merge(HyperLogLog.fromJSON(p.visitors));
      return acc;
    },
    merge(into, other) {
      into.pageviews += other.pageviews;
      into.visitors.merge(other.visitors);
      return into;
    },
    result: (acc) => ({ pageviews: acc.pageviews, visitors: acc.visitors.estimate() }),
    toJSON: (acc) => ({ pageviews: acc.pageviews, visitors: acc.visitors.toJSON() }),
    fromJSON: (json) => {
      const j = json as { pageviews: number; visitors: Json };
      return { pageviews: j.pageviews, visitors: HyperLogLog.fromJSON(j.visitors) };
    },
  };
}

/**
 * Rebuilds one site's busiest windows from its minute rollups, serialised with the job's passes
 * (its lock): after an import of history, whose minutes are far behind the live job's event time.
 */
export async function rebuildSitePeaks(tx: pg.PoolClient, siteId: string, timezone: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))', [LOCK_ID]);
  await rederiveSitePeaks(tx, siteId, timezone, PEAK_SIZES);
}

/** `runOnce(now?, limit?)`: one pass, consuming up to `limit` partials; returns how many it consumed. */
export type PeaksJob = ScheduledJob<[now?: number, limit?: number], number>;

/** What the peaks job reads of the settings: how many source partitions' watermarks its operators follow. */
export type PeaksSettings = Pick<Env, 'EVENTS_PARTITIONS'>;

export function peaksJob(deps: {
  db: pg.Pool;
  bus: Publisher;
  dims: SiteDimensionTable;
  settings: PeaksSettings;
  clock?: () => number;
}): PeaksJob {
  const clock = deps.clock ?? Date.now;
  // Partials can be rewritten by late firings up to the rollups' allowed lateness after a minute.
  const settings = { outOfOrdernessMs: 7 * MINUTE, allowedLatenessMs: 10 * MINUTE, idleTimeoutMs: 30_000 };
  const make = (): Op[] =>
    PEAK_SIZES.map(({ sizeMin, slideMin }) => {
      // Each events-topic partition's partials advance in event time on their own (one can be
      // hours ahead in a backlog): one watermark per source partition, the operator follows the
      // slowest non-idle one.
      const op: Op = windowOperator(slidingWindows(sizeMin * MINUTE, slideMin * MINUTE), trafficAggregate(), {
        outOfOrdernessMs: settings.outOfOrdernessMs,
        allowedLatenessMs: settings.allowedLatenessMs,
        idleTimeoutMs: settings.idleTimeoutMs,
        clock,
        dimensions: deps.dims.table,
        // Today's busiest windows are on the dashboard within a pass of the traffic that makes
        // them (issue 12: "No traffic yet today" at 24 pageviews), not an hour later when the
        // window closes. Accumulating: a firing carries the whole window so far, and a window's
        // value only grows, so "keep the day's busiest" below stays right through refinements.
        trigger: earlyFiringTrigger({ everyBatch: true }),
      });
      for (let p = 0; p < deps.settings.EVENTS_PARTITIONS; p++) op.addPartition(p);
      return op;
    });
  let ops: Op[] | null = null;
  // With no partials for a while, event time advances at the pace of the silence, so the last
  // windows close without making a backlog late (lib/stream/silence.ts). Rebuilt on every pass
  // from the checkpoint, like the operators: it once lived across passes and took
  // `resumeFrom(watermark)` on each, so every pass counted the whole silence again on top of a
  // watermark that already held it — event time ran hours ahead within minutes of quiet, and the
  // next traffic was all late: the peaks cards froze.
  const silenceOptions = { idleTimeoutMs: settings.idleTimeoutMs, outOfOrdernessMs: settings.outOfOrdernessMs, clock };

  async function pass(now: number, limit: number): Promise<number> {
    let consumed = 0;
    const changed = new Set<string>();
    await transaction(deps.db, async (tx) => {
      const lock = await tx.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1, hashtext(current_schema())) AS ok',
        [LOCK_ID],
      );
      if (!lock.rows[0]!.ok) return;
      await tx.query(
        "INSERT INTO consumer_progress (job, topic, partition, next_offset) VALUES ($1, 'minute_partials', 0, 0) ON CONFLICT DO NOTHING",
        [PEAKS_JOB],
      );
      const progress = await tx.query<{ state: Json | null }>(
        "SELECT state FROM consumer_progress WHERE job = $1 AND topic = 'minute_partials' AND partition = 0 FOR UPDATE",
        [PEAKS_JOB],
      );
      // Always rebuild from the stored checkpoint: another instance may have run since our last pass.
      ops = make();
      const stored = progress.rows[0]?.state;
      const saved = stored ? CHECKPOINT.decode(stored) : null;
      saved?.operators.forEach((snap, i) => ops![i]!.restore(snap));
      // The zone each site's rows were cut with. A site whose zone changed since has its days
      // rebuilt in the new zone before this pass fires anything (rederive.ts); a site seen for the
      // first time (or a checkpoint from before this was kept) is taken as consistent.
      const seen = saved?.timezones ?? {};
      const sites = deps.dims.table.data.sites;
      // Before the first refresh the table is empty: keep what was seen rather than forget it.
      const timezones: Record<string, string> = sites.size ? {} : { ...seen };
      // Only sites that still exist: the table can be a refresh behind a deletion, and a deleted
      // site's id must not come back into the checkpoint (lib/sites/site-data.ts).
      const existing = new Set((await tx.query<{ id: string }>('SELECT id FROM sites')).rows.map((r) => r.id));
      for (const [id, site] of sites) {
        if (!existing.has(id)) continue;
        const before = seen[id];
        if (before !== undefined && before !== site.timezone) {
          await rederiveSitePeaks(tx, id, site.timezone, PEAK_SIZES);
          changed.add(id);
        }
        timezones[id] = site.timezone;
      }
      const rows = await tx.query<{
        id: string;
        site_id: string;
        content_group: string;
        minute: Date;
        source_partition: number;
        pageviews_delta: number;
        visitors: HyperLogLogJson | null;
      }>(
        'SELECT id::text, site_id, content_group, minute, source_partition, pageviews_delta, visitors FROM minute_partials ORDER BY id LIMIT $1',
        [limit],
      );
      const silence = new SilenceProgress(silenceOptions, saved?.input?.lastRecordAt ?? now);
      if (saved?.input) silence.observe(saved.input.maxMinute);
      // A checkpoint from before the input was kept: once, from the watermark it implies.
      else if (saved) silence.resumeFrom(ops[0]!.watermark);
      if (rows.rows.length) silence.records(now);
      for (const r of rows.rows) {
        silence.observe(r.minute.getTime());
        for (const op of ops)
          op.process(r.source_partition, `${r.site_id}|${r.content_group}`, r.minute.getTime(), {
            pageviews: r.pageviews_delta,
            visitors: r.visitors,
          });
      }
      const idleTarget = silence.target(now);
      const results = ops.flatMap((op, i) => {
        const e =
          rows.rows.length || idleTarget === null
            ? op.advanceWatermark()
            : op.advanceWatermarkTo(Math.max(op.watermark, idleTarget));
        return e.results.map((res) => ({ res, size: PEAK_SIZES[i]!.sizeMin }));
      });
      // A site created since the table's last refresh: its zone first, or its first peaks would
      // be filed under a UTC date (workers/shared/dimensions.ts ensureKnown).
      await deps.dims.ensureKnown(results.map(({ res }) => res.key.slice(0, res.key.indexOf('|'))));
      for (const { res, size } of results) {
        const sep = res.key.indexOf('|');
        const siteId = res.key.slice(0, sep);
        const group = res.key.slice(sep + 1);
        const day = localDate(res.windowStart, deps.dims.site(siteId).timezone);
        // Keep the busiest window of the day: more pageviews wins, then more visitors.
        const up = await tx.query(
          `INSERT INTO peak_windows (site_id, day, content_group, window_size_minutes, window_start, window_end, pageviews, visitors, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
           ON CONFLICT (site_id, day, content_group, window_size_minutes) DO UPDATE
             SET window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end, pageviews = EXCLUDED.pageviews, visitors = EXCLUDED.visitors, updated_at = now()
             WHERE (EXCLUDED.pageviews, EXCLUDED.visitors) > (peak_windows.pageviews, peak_windows.visitors)
                OR (peak_windows.window_start = EXCLUDED.window_start AND peak_windows.window_end = EXCLUDED.window_end)`,
          [
            siteId,
            day,
            group,
            size,
            new Date(res.windowStart).toISOString(),
            new Date(res.windowEnd).toISOString(),
            res.value.pageviews,
            res.value.visitors,
          ],
        );
        if (up.rowCount) changed.add(siteId);
      }
      if (rows.rows.length)
        await tx.query('DELETE FROM minute_partials WHERE id = ANY($1::bigint[])', [rows.rows.map((r) => r.id)]);
      await tx.query(
        "UPDATE consumer_progress SET state = $2, updated_at = now() WHERE job = $1 AND topic = 'minute_partials' AND partition = 0",
        [
          PEAKS_JOB,
          JSON.stringify(
            CHECKPOINT.encode({
              operators: ops.map((op) => op.snapshot()),
              dimensionVersion: deps.dims.table.version,
              timezones,
              ...(Number.isFinite(silence.maxEventTs)
                ? { input: { maxMinute: silence.maxEventTs, lastRecordAt: silence.lastRecordAt } }
                : {}),
            }),
          ),
        ],
      );
      consumed = rows.rows.length;
    });
    if (changed.size) await publishSiteChanges(deps.bus, changed).catch(() => undefined);
    return consumed;
  }

  return scheduledJob<[now?: number, limit?: number], number>(
    'peaks',
    (now = clock(), limit = 5000) => pass(now, limit),
    { everyMs: 1000 },
  );
}
