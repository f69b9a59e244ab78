import type pg from 'pg';
import { topics, type Publisher } from '@/lib/bus';
import type { EventRecord } from '@/lib/events/record';
import { publishSiteChanges } from '@/lib/live/publish';
import {
  earlyFiringTrigger,
  sessionWindows,
  SilenceProgress,
  windowOperator,
  type Emission,
  SnapshotError,
  stateCodec,
  type Json,
  type WindowOperator,
} from '@/lib/stream';
import type { Job, JobBatchResult } from '../runtime';
import { eventSteps } from '../shared/event-steps';
import { lockSiteRows } from '../shared/site-locks';
import { decodeEvent } from '../shared/decode-event';
import { localDayStart, type SiteDimensionTable } from '../shared/dimensions';
import { eventTimeSettings, type EventTimeEnv } from '../shared/event-time';
import { key as valueKey, ValueDictionary, type ValueKind } from '../shared/value-dictionary';
import { isBounce, sessionStatsAggregate, visitAttribution, type SessionStats } from './session-stats';
import { MINUTE, HOUR } from '@/lib/time';
import type { Dimension } from '@/lib/analytics/dimensions';
import { visitDimensionValues, type VisitColumns } from '@/lib/analytics/dimension-registry';
import type { Queryable } from '@/lib/db/client';
import { addVisitDeltas, type VisitDelta } from '@/lib/rollups/visit-deltas';

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

type Op = WindowOperator<string, EventRecord, SessionStats>;
interface PartitionState {
  byGap: Map<number, Op>;
  /** One silence per partition: its operators (one per session gap) see the same records. */
  silence: SilenceProgress;
}
// One operator per session gap in use, as [gap ms, snapshot]; each snapshot is versioned by
// lib/stream and checked by its restore().
type Checkpoint = { operators: [number, Json][]; dimensionVersion: number };
const CHECKPOINT = stateCodec<Checkpoint>({
  name: 'sessions checkpoint',
  // 2: the visits' compact form (session-stats.ts: a landing as "first", nulls left out; the
  // operator's emitted panes marked accIsValue). An older release refuses it by this number
  // instead of failing inside a visit; this one reads both.
  version: 2,
  reads: [1],
  decode: (f) => ({
    operators: f.array('operators').map((entry, i): [number, Json] => {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'number')
        throw new SnapshotError(`sessions checkpoint: operators[${i}] must be [gap, snapshot]`);
      return [entry[0], entry[1]!];
    }),
    dimensionVersion: f.number('dimensionVersion'),
  }),
});

interface StoredSession extends VisitColumns {
  started_at: Date;
  duration_ms: number;
  pageviews: number;
  bounce: boolean;
}

/**
 * `earlyFiring: false` is the job before live visits (a visit is written when its gap closes):
 * the baseline the live-sessions benchmark runs side by side. Production leaves it on.
 */
export function sessionsJob(deps: {
  bus: Publisher;
  db: Queryable;
  dims: Pick<SiteDimensionTable, 'table' | 'site'> & Partial<Pick<SiteDimensionTable, 'ensureKnown'>>;
  settings: EventTimeEnv;
  clock?: () => number;
  earlyFiring?: boolean;
}): Job<EventRecord> {
  const clock = deps.clock ?? Date.now;
  const trigger = deps.earlyFiring === false ? undefined : earlyFiringTrigger({ everyBatch: true });
  const partitions = new Map<number, PartitionState>();
  const dictionary = new ValueDictionary(deps.db);
  // When this process last saw records per partition: a fact about the process, not the
  // checkpoint, so a re-assignment (rebalance) does not restart the idle clock.
  const lastRecordAt = new Map<number, number>();

  const makeOp = (partition: number, gapMs: number): Op => {
    const { outOfOrdernessMs, allowedLatenessMs } = eventTimeSettings(deps.settings);
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
  const silence = (partition: number) => {
    const { outOfOrdernessMs, idleTimeoutMs } = eventTimeSettings(deps.settings);
    return new SilenceProgress({ idleTimeoutMs, outOfOrdernessMs, clock }, lastRecordAt.get(partition));
  };
  const state = (partition: number): PartitionState => {
    let s = partitions.get(partition);
    if (!s) partitions.set(partition, (s = { byGap: new Map(), silence: silence(partition) }));
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

  async function emit(
    tx: pg.PoolClient,
    partition: number,
    emissions: Emission<string, EventRecord, SessionStats>[],
  ): Promise<JobBatchResult> {
    const contributions = new Contributions();
    const changed = new Set<string>();
    // Dictionary ids before the site locks (see value-dictionary.ts); the final row per visit key.
    const { ids, learnt } = await dictionary.resolve(
      tx,
      emissions.flatMap((e) =>
        e.results.flatMap((r) => {
          const site = splitKey(r.key)[0];
          return visitValues(storedSession(r.windowStart, r.value)).flatMap(
            ([, kind, v]): [string, ValueKind, string][] => (v === null ? [] : [[site, kind, v]]),
          );
        }),
      ),
    );
    const facts = new Map<string, VisitFactChange>();
    await lockSiteRows(
      tx,
      partition,
      emissions.flatMap((e) => e.results.map((r) => splitKey(r.key)[0])),
    );
    // One round trip per kind of statement, not one per visit: at 1,000 events/s a batch carries
    // hundreds of changed visits. The rows this batch replaces are read first (one SELECT … FOR
    // UPDATE), the firings are then applied in order against that snapshot in memory — exactly as
    // row-by-row statements would have seen it, including a visit written twice in one batch — and
    // the final state of each visit key is written with one DELETE and one upsert.
    const results = emissions.flatMap((e) => e.results);
    const stored = await storedRows(
      tx,
      results.flatMap((r) => rowsToRead(r)),
    );
    const final = new Map<
      string,
      {
        siteId: string;
        visitorId: string;
        start: number;
        row: StoredSession | null;
        endedAt: number;
        stats: SessionStats | null;
      }
    >();
    const current = (siteId: string, visitorId: string, start: number): StoredSession | null => {
      const k = visitKey(siteId, visitorId, start);
      const pending = final.get(k);
      return pending ? pending.row : (stored.get(k) ?? null);
    };
    for (const r of results) {
      const [siteId, visitorId] = splitKey(r.key);
      changed.add(siteId);
      const tz = deps.dims.site(siteId).timezone;
      // Subtract what earlier firings of this visit (and of the visits merged into it) added.
      const retracted = new Set<number>();
      for (const x of r.retractions) {
        if (isVisit(x.value)) contributions.add(siteId, tz, storedSession(x.windowStart, x.value), -1);
        else {
          // Not a visit: nothing was added for it — unless a row exists (written before this rule).
          const old = current(siteId, visitorId, x.windowStart);
          if (old) contributions.add(siteId, tz, old, -1);
        }
        retracted.add(x.windowStart);
      }
      // Bounds that no longer exist: delete their rows. A retraction without a value (a session
      // restored from a checkpoint taken before values were recorded) subtracts the deleted row.
      // (A visit that only grew keeps its start: its row is replaced by the upsert below.)
      for (const old of r.retracts) {
        const gone = current(siteId, visitorId, old.start);
        if (!retracted.has(old.start) && gone) contributions.add(siteId, tz, gone, -1);
        retracted.add(old.start);
        final.set(visitKey(siteId, visitorId, old.start), {
          siteId,
          visitorId,
          start: old.start,
          row: null,
          endedAt: 0,
          stats: null,
        });
      }
      if (!retracted.has(r.windowStart)) {
        // The operator never emitted a visit starting here, yet a row may exist: written under a
        // version 1 checkpoint's bounds, or by the operator of the site's previous session gap.
        // The row is what the rollups hold, so it is what this upsert replaces.
        const previous = current(siteId, visitorId, r.windowStart);
        if (previous) contributions.add(siteId, tz, previous, -1);
      }
      if (!isVisit(r.value)) {
        // Only engagement pings so far (a tab closed after the gap): no visit, no row.
        final.set(visitKey(siteId, visitorId, r.windowStart), {
          siteId,
          visitorId,
          start: r.windowStart,
          row: null,
          endedAt: 0,
          stats: null,
        });
        continue;
      }
      const row = storedSession(r.windowStart, r.value);
      contributions.add(siteId, tz, row, +1);
      final.set(visitKey(siteId, visitorId, r.windowStart), {
        siteId,
        visitorId,
        start: r.windowStart,
        row,
        endedAt: r.value.lastTs,
        stats: r.value,
      });
    }
    const gone = [...final.values()].filter((f) => f.row === null);
    if (gone.length) {
      await tx.query(
        `DELETE FROM sessions s USING unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS u(site, visitor, started)
          WHERE s.site_id = u.site AND s.visitor_id = u.visitor AND s.started_at = u.started`,
        [gone.map((g) => g.siteId), gone.map((g) => g.visitorId), gone.map((g) => new Date(g.start).toISOString())],
      );
    }
    const kept = [...final.values()].flatMap((f) =>
      f.row === null || f.stats === null ? [] : [{ ...f, row: f.row, stats: f.stats }],
    );
    await upsertSessions(tx, partition, kept);
    for (const f of final.values()) {
      const startedAt = new Date(f.start).toISOString();
      const k = `${f.siteId}|${f.start}|${f.visitorId}`;
      if (f.row === null) {
        facts.set(k, { siteId: f.siteId, visitorId: f.visitorId, startedAt, fact: null });
        continue;
      }
      const row = f.row;
      const factIds = Object.fromEntries(
        visitValues(row).map(([col, kind, v]) => [col, v === null ? null : ids.get(valueKey(f.siteId, kind, v))!]),
      );
      facts.set(k, {
        siteId: f.siteId,
        visitorId: f.visitorId,
        startedAt,
        fact: { endedAt: new Date(f.endedAt).toISOString(), row, ids: factIds },
      });
    }
    await contributions.write(tx, partition);
    await writeVisitFacts(tx, facts);
    const s = state(partition);
    const checkpoint: Checkpoint = {
      operators: [...s.byGap].map(([gap, op]) => [gap, op.snapshot()]),
      dimensionVersion: deps.dims.table.version,
    };
    return {
      state: CHECKPOINT.encode(checkpoint),
      after: async () => {
        dictionary.commit(learnt);
        await publishSiteChanges(deps.bus, changed);
      },
    };
  }

  return {
    name: SESSIONS_JOB,
    topic: topics.events,
    decode: decodeEvent,
    // Dedup by event id and a deleted site's records dropped, before apply (outcomes booked by the runtime).
    steps: eventSteps(SESSIONS_JOB, deps.dims),
    siteOf: (record) => record.siteId,
    restore(partition, json) {
      const s: PartitionState = { byGap: new Map(), silence: silence(partition) };
      partitions.set(partition, s);
      for (const [gap, snap] of json === null ? [] : CHECKPOINT.decode(json).operators) {
        const op = makeOp(partition, gap);
        op.restore(snap);
        s.byGap.set(gap, op);
        s.silence.resumeFrom(op.watermark);
      }
    },
    release(partition) {
      partitions.delete(partition);
    },
    async apply(tx, partition, records) {
      const s0 = state(partition);
      for (const { record: e } of records) {
        s0.silence.observe(e.ts);
        // Server requests (events API) are not part of visits (they still move event time): a
        // browser visit whose page the server also logged would otherwise never bounce.
        if (e.request) continue;
        opFor(partition, deps.dims.site(e.siteId).sessionGapMs).process(
          partition,
          `${e.siteId}|${e.visitorId}`,
          e.ts,
          e,
        );
      }
      const s = state(partition);
      if (records.length) {
        const now = clock();
        s.silence.records(now);
        lastRecordAt.set(partition, now);
      }
      return emit(
        tx,
        partition,
        [...s.byGap.values()].map((op) => op.advanceWatermark()),
      );
    },
    async flush(tx, partition) {
      const s = partitions.get(partition);
      return s
        ? emit(
            tx,
            partition,
            [...s.byGap.values()].map((op) => op.advanceWatermarkTo(Number.POSITIVE_INFINITY)),
          )
        : undefined;
    },
    async tick(tx, partition) {
      const s = partitions.get(partition);
      if (!s || s.byGap.size === 0) return undefined;
      const target = s.silence.target();
      const ops = [...s.byGap.values()];
      if (target === null || ops.every((op) => target <= op.watermark || op.openWindowCount === 0)) return undefined;
      return emit(
        tx,
        partition,
        ops.map((op) => op.advanceWatermarkTo(Math.max(target, op.watermark))),
      );
    },
  };
}

/**
 * A session window is a visit once it has a pageview or a custom event. Engagement pings alone —
 * the one a tab sends when it is closed after the session gap, or one from a phone that changed
 * networks — made visits of 0 pages that counted as bounces (found by a walk-through: 4 visits,
 * bounce 50 % for 3 visitors who made 3 visits). Plausible does not start a session on them either.
 */
function isVisit(s: SessionStats): boolean {
  return s.pageviews > 0 || s.events > 0;
}

/** The `sessions` row (and rollup contribution) of a visit with these stats: one definition for what is added and what is retracted. */
function storedSession(windowStart: number, stats: SessionStats): StoredSession {
  const a = visitAttribution(stats);
  return {
    started_at: new Date(windowStart),
    duration_ms: Math.max(0, stats.lastTs - stats.firstTs),
    pageviews: stats.pageviews,
    bounce: isBounce(stats),
    entry_path: a.path,
    exit_path: stats.exitPath,
    channel: a.channel,
    referrer_host: a.referrerHost,
    utm_source: a.utmSource,
    utm_medium: a.utmMedium,
    utm_campaign: a.utmCampaign,
    device: a.device,
    browser: a.browser,
    os: a.os,
    country: a.country,
  };
}

function visitKey(siteId: string, visitorId: string, start: number): string {
  return `${siteId}|${visitorId}|${start}`;
}

/** Visit keys whose stored rows a firing may replace without knowing their values (see emit). */
function rowsToRead(r: {
  key: string;
  windowStart: number;
  retracts: readonly { start: number }[];
  retractions: readonly { windowStart: number }[];
}): [string, string, number][] {
  const [siteId, visitorId] = splitKey(r.key);
  const known = new Set(r.retractions.map((x) => x.windowStart));
  const starts = new Set(r.retracts.map((b) => b.start).filter((start) => !known.has(start)));
  if (!known.has(r.windowStart)) starts.add(r.windowStart);
  return [...starts].map((start) => [siteId, visitorId, start]);
}

/** The stored rows of these visits (locked for this transaction), by visitKey. */
async function storedRows(tx: pg.PoolClient, keys: [string, string, number][]): Promise<Map<string, StoredSession>> {
  const out = new Map<string, StoredSession>();
  if (keys.length === 0) return out;
  const r = await tx.query<StoredSession & { site_id: string; visitor_id: string }>(
    `SELECT s.* FROM sessions s JOIN unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS u(site, visitor, started)
        ON s.site_id = u.site AND s.visitor_id = u.visitor AND s.started_at = u.started
      FOR UPDATE OF s`,
    [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => new Date(k[2]).toISOString())],
  );
  for (const row of r.rows) out.set(visitKey(row.site_id, row.visitor_id, row.started_at.getTime()), row);
  return out;
}

/** Upserts the visits' `sessions` rows in one statement (each key once). */
async function upsertSessions(
  tx: pg.PoolClient,
  partition: number,
  visits: { siteId: string; visitorId: string; start: number; row: StoredSession; stats: SessionStats }[],
): Promise<void> {
  if (visits.length === 0) return;
  const col = <T>(f: (v: (typeof visits)[number]) => T): T[] => visits.map(f);
  await tx.query(
    `INSERT INTO sessions (site_id, visitor_id, started_at, ended_at, duration_ms, pageviews, events, engaged_ms, entry_path, exit_path, bounce, channel,
       referrer_host, utm_source, utm_medium, utm_campaign, device, browser, os, country, source_partition, updated_at)
     SELECT u.*, $21::int, now()
       FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::int[], $7::int[], $8::int[], $9::text[], $10::text[], $11::bool[],
                   $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[]) AS u
     ON CONFLICT (site_id, visitor_id, started_at) DO UPDATE SET ended_at = EXCLUDED.ended_at, duration_ms = EXCLUDED.duration_ms,
       pageviews = EXCLUDED.pageviews, events = EXCLUDED.events, engaged_ms = EXCLUDED.engaged_ms, entry_path = EXCLUDED.entry_path,
       exit_path = EXCLUDED.exit_path, bounce = EXCLUDED.bounce, channel = EXCLUDED.channel, referrer_host = EXCLUDED.referrer_host,
       utm_source = EXCLUDED.utm_source, utm_medium = EXCLUDED.utm_medium, utm_campaign = EXCLUDED.utm_campaign, device = EXCLUDED.device,
       browser = EXCLUDED.browser, os = EXCLUDED.os, country = EXCLUDED.country, updated_at = now()`,
    [
      col((v) => v.siteId),
      col((v) => v.visitorId),
      col((v) => new Date(v.start).toISOString()),
      col((v) => new Date(v.stats.lastTs).toISOString()),
      col((v) => v.row.duration_ms),
      col((v) => v.stats.pageviews),
      col((v) => v.stats.events),
      col((v) => v.stats.engagedMs),
      col((v) => v.row.entry_path),
      col((v) => v.row.exit_path),
      col((v) => v.row.bounce),
      col((v) => v.row.channel),
      col((v) => v.row.referrer_host),
      col((v) => v.row.utm_source),
      col((v) => v.row.utm_medium),
      col((v) => v.row.utm_campaign),
      col((v) => v.row.device),
      col((v) => v.row.browser),
      col((v) => v.row.os),
      col((v) => v.row.country),
      partition,
    ],
  );
}

/** A visit's dictionary-encoded values (visit_facts) by column, as the rollups label them (null: none). */
function visitValues(s: StoredSession): [Dimension, ValueKind, string | null][] {
  return visitDimensionValues(s).map(([d, v]) => [d.name, d.kind, v]);
}

interface VisitFactChange {
  siteId: string;
  visitorId: string;
  startedAt: string;
  /** null: the visit's bounds no longer exist. */
  fact: { endedAt: string; row: StoredSession; ids: Record<string, number | null> } | null;
}

/**
 * visit_facts follows the `sessions` rows written in this transaction: the last state per visit
 * key, deleted where the visit's bounds no longer exist. Two statements per batch.
 */
async function writeVisitFacts(tx: pg.PoolClient, facts: Map<string, VisitFactChange>): Promise<void> {
  const gone = [...facts.values()].filter((f) => f.fact === null);
  if (gone.length) {
    await tx.query(
      // The tombstones tell the columnar copies (lib/analytics/columnar/) what went, in this transaction.
      `WITH gone AS (
         DELETE FROM visit_facts f USING unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS u(site, visitor, started)
          WHERE f.site_id = u.site AND f.visitor = hashtextextended(u.visitor, 0) AND f.started_at = u.started
         RETURNING f.site_id, f.visitor, f.started_at)
       INSERT INTO fact_tombstones (site_id, visitor, started_at) SELECT site_id, visitor, started_at FROM gone`,
      [gone.map((g) => g.siteId), gone.map((g) => g.visitorId), gone.map((g) => g.startedAt)],
    );
  }
  const rows = [...facts.values()].flatMap((f) => (f.fact === null ? [] : [{ ...f, ...f.fact }]));
  if (rows.length === 0) return;
  const col = (c: string) => rows.map((f) => f.ids[c] ?? null);
  await tx.query(
    `INSERT INTO visit_facts (site_id, started_at, visitor, ended_at, pageviews, duration_ms, bounce, entry_page, exit_page, referrer, channel,
       utm_source, utm_medium, utm_campaign, country, device, browser, os)
     SELECT u.site, u.started, hashtextextended(u.visitor, 0), u.ended, u.pv, u.dur, u.bounce, u.entry, u.exit, u.referrer, u.channel, u.us, u.um, u.uc, u.country, u.device, u.browser, u.os
       FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::timestamptz[], $5::int[], $6::int[], $7::bool[], $8::int[], $9::int[], $10::int[], $11::int[],
                   $12::int[], $13::int[], $14::int[], $15::int[], $16::int[], $17::int[], $18::int[])
         AS u(site, started, visitor, ended, pv, dur, bounce, entry, exit, referrer, channel, us, um, uc, country, device, browser, os)
     ON CONFLICT (site_id, started_at, visitor) DO UPDATE SET ended_at = EXCLUDED.ended_at, pageviews = EXCLUDED.pageviews, duration_ms = EXCLUDED.duration_ms,
       bounce = EXCLUDED.bounce, entry_page = EXCLUDED.entry_page, exit_page = EXCLUDED.exit_page, referrer = EXCLUDED.referrer, channel = EXCLUDED.channel,
       utm_source = EXCLUDED.utm_source, utm_medium = EXCLUDED.utm_medium, utm_campaign = EXCLUDED.utm_campaign, country = EXCLUDED.country,
       device = EXCLUDED.device, browser = EXCLUDED.browser, os = EXCLUDED.os, xid = DEFAULT`,
    [
      rows.map((f) => f.siteId),
      rows.map((f) => f.startedAt),
      rows.map((f) => f.visitorId),
      rows.map((f) => f.endedAt),
      rows.map((f) => f.row.pageviews),
      rows.map((f) => f.row.duration_ms),
      rows.map((f) => f.row.bounce),
      col('entry_page'),
      col('exit_page'),
      col('referrer'),
      col('channel'),
      col('utm_source'),
      col('utm_medium'),
      col('utm_campaign'),
      col('country'),
      col('device'),
      col('browser'),
      col('os'),
    ],
  );
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('|');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** Signed session contributions to the rollups (sessions, bounces, duration, the visits' pageviews), written in one statement. */
class Contributions {
  private rows = new Map<string, VisitDelta>();

  add(siteId: string, tz: string, s: StoredSession, sign: 1 | -1): void {
    const start = s.started_at.getTime();
    const buckets: [string, number][] = [
      ['minute', Math.floor(start / MINUTE) * MINUTE],
      ['hour', Math.floor(start / HOUR) * HOUR],
      ['day', localDayStart(start, tz)],
    ];
    const dims: [string, string][] = [['', '']];
    // A visit dimension without a value (no UTM) gets no row.
    for (const [d, v] of visitDimensionValues(s)) if (v !== null) dims.push([d.name, v]);
    for (const [granularity, bucket] of buckets) {
      for (const [dimension, value] of dims) {
        const k = `${siteId}|${granularity}|${bucket}|${dimension}|${value}`;
        const r = this.rows.get(k) ?? {
          site: siteId,
          granularity,
          bucket,
          dimension,
          value,
          sessions: 0,
          bounces: 0,
          duration: 0,
          pageviews: 0,
        };
        r.sessions += sign;
        r.pageviews += sign * s.pageviews;
        r.bounces += s.bounce ? sign : 0;
        r.duration += sign * s.duration_ms;
        this.rows.set(k, r);
      }
    }
  }

  async write(tx: pg.PoolClient, partition: number): Promise<void> {
    const list = [...this.rows.values()].filter(
      (r) => r.sessions !== 0 || r.bounces !== 0 || r.duration !== 0 || r.pageviews !== 0,
    );
    if (list.length === 0) return;
    await addVisitDeltas(tx, partition, list);
  }
}
