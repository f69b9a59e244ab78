import type pg from 'pg';
import { topics, type Bus } from '@/lib/bus';
import type { EventRecord } from '@/lib/events/record';
import { publishSiteChanges } from '@/lib/live/publish';
import { earlyFiringTrigger, sessionWindows, windowOperator, type Emission, type Json, type OperatorSnapshot, type WindowOperator } from '@/lib/stream';
import { claimEventIds, lockSiteRows, type Job, type JobBatchResult } from '../runtime';
import { decodeEvent } from '../shared/decode-event';
import { localDayStart, type SiteDimensionTable } from '../shared/dimensions';
import { eventTimeSettings, idleWatermark } from '../shared/event-time';
import { isBounce, sessionStatsAggregate, type SessionStats } from './session-stats';

// Sessionizer: session windows per (site, visitor), the gap from each site's settings (one
// operator per distinct gap and partition). Visits are live: the operators fire early after every
// batch (accumulating and retracting), so an open visit is in the rollups from its first pageview
// with its values so far. Every firing upserts the visit by (site, visitor, start) and adds its
// contribution to the rollups; the values it replaces — its own previous firing, and the visits a
// late event merged into it — come back as retractions and are subtracted in the same transaction,
// while rows under bounds that no longer exist are deleted. What each visit last emitted is in the
// operator snapshot, committed with those rows and the offsets, so a retried batch or a restored
// worker subtracts exactly what the database holds: never twice, never a value it did not add.

export const SESSIONS_JOB = 'sessions';
const MINUTE = 60_000;
const HOUR = 3_600_000;

type Op = WindowOperator<string, EventRecord, SessionStats>;
interface PartitionState {
  byGap: Map<number, Op>;
  lastRecordAt: number;
  maxEventTs: number;
}
interface Checkpoint {
  operators: [number, OperatorSnapshot][];
  dimensionVersion: number;
}

interface StoredSession {
  started_at: Date;
  duration_ms: number;
  bounce: boolean;
  entry_path: string;
  exit_path: string;
  channel: string;
  referrer_host: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  device: string;
  browser: string;
  os: string;
  country: string | null;
}

/**
 * `earlyFiring: false` is the job before live visits (a visit is written when its gap closes):
 * the baseline the live-sessions benchmark runs side by side. Production leaves it on.
 */
export function sessionsJob(deps: { bus: Bus; dims: Pick<SiteDimensionTable, 'table' | 'site'>; clock?: () => number; earlyFiring?: boolean }): Job<EventRecord> {
  const clock = deps.clock ?? Date.now;
  const trigger = deps.earlyFiring === false ? undefined : earlyFiringTrigger({ everyBatch: true });
  const partitions = new Map<number, PartitionState>();
  // When this process last saw records per partition: a fact about the process, not the
  // checkpoint, so a re-assignment (rebalance) does not restart the idle clock.
  const lastRecordAt = new Map<number, number>();

  const makeOp = (partition: number, gapMs: number): Op => {
    const { outOfOrdernessMs, allowedLatenessMs } = eventTimeSettings();
    const op = windowOperator<EventRecord, SessionStats, SessionStats>(sessionWindows(gapMs), sessionStatsAggregate(), {
      outOfOrdernessMs,
      allowedLatenessMs,
      dimensions: deps.dims.table,
      trigger,
      accumulation: 'accumulating-and-retracting',
    });
    op.addPartition(partition);
    return op;
  };
  const state = (partition: number): PartitionState => {
    let s = partitions.get(partition);
    if (!s) partitions.set(partition, (s = { byGap: new Map(), lastRecordAt: clock(), maxEventTs: Number.NEGATIVE_INFINITY }));
    return s;
  };
  const opFor = (partition: number, gapMs: number): Op => {
    const s = state(partition);
    let op = s.byGap.get(gapMs);
    if (!op) {
      op = makeOp(partition, gapMs);
      // A new operator must not start behind the others of its partition.
      const wm = Math.max(...[...s.byGap.values()].map((o) => o.watermark), Number.NEGATIVE_INFINITY);
      if (Number.isFinite(wm)) op.advanceWatermarkTo(wm);
      s.byGap.set(gapMs, op);
    }
    return op;
  };

  async function emit(tx: pg.PoolClient, partition: number, emissions: Emission<string, EventRecord, SessionStats>[]): Promise<JobBatchResult> {
    const contributions = new Contributions();
    const changed = new Set<string>();
    await lockSiteRows(tx, partition, emissions.flatMap((e) => e.results.map((r) => splitKey(r.key)[0])));
    for (const emission of emissions) {
      for (const r of emission.results) {
        const [siteId, visitorId] = splitKey(r.key);
        changed.add(siteId);
        const tz = deps.dims.site(siteId).timezone;
        // Subtract what earlier firings of this visit (and of the visits merged into it) added.
        const retracted = new Set<number>();
        for (const x of r.retractions) {
          contributions.add(siteId, tz, storedSession(x.windowStart, x.value), -1);
          retracted.add(x.windowStart);
        }
        // Bounds that no longer exist: delete their rows. A retraction without a value (a session
        // restored from a checkpoint taken before values were recorded) subtracts the deleted row.
        for (const old of r.retracts) {
          const gone = await tx.query<StoredSession>('DELETE FROM sessions WHERE site_id = $1 AND visitor_id = $2 AND started_at = $3 RETURNING *', [
            siteId,
            visitorId,
            new Date(old.start).toISOString(),
          ]);
          if (!retracted.has(old.start)) for (const row of gone.rows) contributions.add(siteId, tz, row, -1);
          retracted.add(old.start);
        }
        const stats = r.value;
        const startedAt = new Date(r.windowStart).toISOString();
        if (!retracted.has(r.windowStart)) {
          // The operator never emitted a visit starting here, yet a row may exist: written under a
          // version 1 checkpoint's bounds, or by the operator of the site's previous session gap.
          // The row is what the rollups hold, so it is what this upsert replaces.
          const previous = await tx.query<StoredSession>('SELECT * FROM sessions WHERE site_id = $1 AND visitor_id = $2 AND started_at = $3 FOR UPDATE', [siteId, visitorId, startedAt]);
          for (const row of previous.rows) contributions.add(siteId, tz, row, -1);
        }
        const row = storedSession(r.windowStart, stats);
        await tx.query(
          `INSERT INTO sessions (site_id, visitor_id, started_at, ended_at, duration_ms, pageviews, events, engaged_ms, entry_path, exit_path, bounce, channel,
             referrer_host, utm_source, utm_medium, utm_campaign, device, browser, os, country, source_partition, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, now())
           ON CONFLICT (site_id, visitor_id, started_at) DO UPDATE SET ended_at = EXCLUDED.ended_at, duration_ms = EXCLUDED.duration_ms,
             pageviews = EXCLUDED.pageviews, events = EXCLUDED.events, engaged_ms = EXCLUDED.engaged_ms, entry_path = EXCLUDED.entry_path,
             exit_path = EXCLUDED.exit_path, bounce = EXCLUDED.bounce, channel = EXCLUDED.channel, referrer_host = EXCLUDED.referrer_host,
             utm_source = EXCLUDED.utm_source, utm_medium = EXCLUDED.utm_medium, utm_campaign = EXCLUDED.utm_campaign, device = EXCLUDED.device,
             browser = EXCLUDED.browser, os = EXCLUDED.os, country = EXCLUDED.country, updated_at = now()`,
          [
            siteId,
            visitorId,
            startedAt,
            new Date(stats.lastTs).toISOString(),
            row.duration_ms,
            stats.pageviews,
            stats.events,
            stats.engagedMs,
            row.entry_path,
            row.exit_path,
            row.bounce,
            row.channel,
            row.referrer_host,
            row.utm_source,
            row.utm_medium,
            row.utm_campaign,
            row.device,
            row.browser,
            row.os,
            row.country,
            partition,
          ],
        );
        contributions.add(siteId, tz, row, +1);
      }
    }
    await contributions.write(tx, partition);
    const s = state(partition);
    const checkpoint: Checkpoint = { operators: [...s.byGap].map(([gap, op]) => [gap, op.snapshot()]), dimensionVersion: deps.dims.table.version };
    return { state: checkpoint as unknown as Json, after: () => publishSiteChanges(deps.bus, changed) };
  }

  return {
    name: SESSIONS_JOB,
    topic: topics.events,
    decode: decodeEvent,
    siteOf: (record) => record.siteId,
    restore(partition, json) {
      const s: PartitionState = { byGap: new Map(), lastRecordAt: lastRecordAt.get(partition) ?? clock(), maxEventTs: Number.NEGATIVE_INFINITY };
      partitions.set(partition, s);
      for (const [gap, snap] of (json as unknown as Checkpoint | null)?.operators ?? []) {
        const op = makeOp(partition, gap);
        op.restore(snap as unknown as Json);
        s.byGap.set(gap, op);
        s.maxEventTs = Math.max(s.maxEventTs, op.watermark + eventTimeSettings().outOfOrdernessMs + 1);
      }
    },
    release(partition) {
      partitions.delete(partition);
    },
    async apply(tx, partition, records) {
      const s0 = state(partition);
      for (const e of await claimEventIds(tx, SESSIONS_JOB, records.map((r) => r.record))) {
        if (e.ts > s0.maxEventTs) s0.maxEventTs = e.ts;
        opFor(partition, deps.dims.site(e.siteId).sessionGapMs).process(partition, `${e.siteId}|${e.visitorId}`, e.ts, e);
      }
      const s = state(partition);
      if (records.length) lastRecordAt.set(partition, (s.lastRecordAt = clock()));
      return emit(tx, partition, [...s.byGap.values()].map((op) => op.advanceWatermark()));
    },
    async flush(tx, partition) {
      const s = partitions.get(partition);
      return s ? emit(tx, partition, [...s.byGap.values()].map((op) => op.advanceWatermarkTo(Number.POSITIVE_INFINITY))) : undefined;
    },
    async tick(tx, partition) {
      const s = partitions.get(partition);
      if (!s || s.byGap.size === 0) return undefined;
      const target = idleWatermark(s.maxEventTs, s.lastRecordAt, clock());
      const ops = [...s.byGap.values()];
      if (target === null || ops.every((op) => target <= op.watermark || op.openWindowCount === 0)) return undefined;
      return emit(tx, partition, ops.map((op) => op.advanceWatermarkTo(Math.max(target, op.watermark))));
    },
  };
}

/** The `sessions` row (and rollup contribution) of a visit with these stats: one definition for what is added and what is retracted. */
function storedSession(windowStart: number, stats: SessionStats): StoredSession {
  return {
    started_at: new Date(windowStart),
    duration_ms: Math.max(0, stats.lastTs - stats.firstTs),
    bounce: isBounce(stats),
    entry_path: stats.first.path,
    exit_path: stats.exitPath,
    channel: stats.first.channel,
    referrer_host: stats.first.referrerHost,
    utm_source: stats.first.utmSource,
    utm_medium: stats.first.utmMedium,
    utm_campaign: stats.first.utmCampaign,
    device: stats.first.device,
    browser: stats.first.browser,
    os: stats.first.os,
    country: stats.first.country,
  };
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('|');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** Signed session contributions to the rollups (sessions, bounces, duration), written in one statement. */
class Contributions {
  private rows = new Map<string, { site: string; granularity: string; bucket: number; dimension: string; value: string; sessions: number; bounces: number; duration: number }>();

  add(siteId: string, tz: string, s: StoredSession, sign: 1 | -1): void {
    const start = s.started_at.getTime();
    const buckets: [string, number][] = [
      ['minute', Math.floor(start / MINUTE) * MINUTE],
      ['hour', Math.floor(start / HOUR) * HOUR],
      ['day', localDayStart(start, tz)],
    ];
    const dims: [string, string][] = [
      ['', ''],
      ['entry_page', s.entry_path],
      ['exit_page', s.exit_path],
      ['channel', s.channel],
      ['referrer', s.referrer_host ?? '(direct)'],
      ['country', s.country ?? '(unknown)'],
      ['device', s.device],
      ['browser', s.browser],
      ['os', s.os],
    ];
    if (s.utm_source) dims.push(['utm_source', s.utm_source]);
    if (s.utm_medium) dims.push(['utm_medium', s.utm_medium]);
    if (s.utm_campaign) dims.push(['utm_campaign', s.utm_campaign]);
    for (const [granularity, bucket] of buckets) {
      for (const [dimension, value] of dims) {
        const k = `${siteId}|${granularity}|${bucket}|${dimension}|${value}`;
        const r = this.rows.get(k) ?? { site: siteId, granularity, bucket, dimension, value, sessions: 0, bounces: 0, duration: 0 };
        r.sessions += sign;
        r.bounces += s.bounce ? sign : 0;
        r.duration += sign * s.duration_ms;
        this.rows.set(k, r);
      }
    }
  }

  async write(tx: pg.PoolClient, partition: number): Promise<void> {
    const list = [...this.rows.values()].filter((r) => r.sessions !== 0 || r.bounces !== 0 || r.duration !== 0);
    if (list.length === 0) return;
    await tx.query(
      `INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, sessions, bounces, duration_ms, updated_at)
       SELECT u.site, u.granularity::"Granularity", u.bucket, u.dimension, u.value, $1, u.sessions, u.bounces, u.duration, now()
       FROM unnest($2::uuid[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::int[], $8::int[], $9::bigint[])
         AS u(site, granularity, bucket, dimension, value, sessions, bounces, duration)
       ON CONFLICT (site_id, granularity, bucket, dimension, value, source_partition) DO UPDATE
         SET sessions = rollups.sessions + EXCLUDED.sessions, bounces = rollups.bounces + EXCLUDED.bounces,
             duration_ms = rollups.duration_ms + EXCLUDED.duration_ms, updated_at = now()`,
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
      ],
    );
  }
}
