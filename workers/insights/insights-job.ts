import type pg from 'pg';
import { topics, type Publisher } from '@/lib/bus';
import type { EventRecord } from '@/lib/events/record';
import type { Env } from '@/lib/env';
import { matches } from '@/lib/goals/definition';
import { publishSiteChanges } from '@/lib/live/publish';
import { type Emission, stateCodec, type Json } from '@/lib/stream';
import type { Job, JobBatchResult } from '../runtime';
import { eventSteps } from '../shared/event-steps';
import { lockSiteRows } from '../shared/site-locks';
import { decodeEvent } from '../shared/decode-event';
import { localDayStart, type SiteDimensionTable } from '../shared/dimensions';
import type { EventTimeEnv } from '../shared/event-time';
import { minutePartitions } from '../shared/minute-partitions';
import type { DefinitionsTable } from './definitions';
import { insightStatsAggregate, type InsightStats } from './event-stats';
import { writeInsightDelta, writeInsightWindow } from './insight-sink';
import { MINUTE } from '@/lib/time';

// Insights: what visitors do besides viewing pages — custom events and their properties,
// outbound links, downloads, 404s, engagement per page — as tumbling 1-minute windows per site
// (the rollups job's shape: early firing after every batch, minute rows replaced, hour/day rows
// by difference), plus goal conversions, one row per (goal, event), matched against the
// definitions side input. Its own consumer group on `events`, so it can be added, replayed or
// scaled without touching the pageview rollups. Events beyond allowed lateness are folded into
// the rows of source partition −1 (which no operator replaces) in the same transaction.

export const INSIGHTS_JOB = 'insights';
/** Source partition of late events folded in directly (as reconcile does for `rollups`). */
const LATE_PARTITION = -1;

// The operator's snapshot is versioned by lib/stream and checked by its restore().
type Checkpoint = { operator: Json; dimensionVersion: number; definitionsVersion: number };
const CHECKPOINT = stateCodec<Checkpoint>({
  name: 'insights checkpoint',
  version: 1,
  decode: (f) => ({
    operator: f.object('operator'),
    dimensionVersion: f.number('dimensionVersion'),
    definitionsVersion: f.number('definitionsVersion'),
  }),
});

/** What the insights job reads of the settings: event time, and whether custom event properties are broken down. */
export type InsightsSettings = EventTimeEnv & Pick<Env, 'EVENT_PROPERTY_BREAKDOWNS'>;

export function insightsJob(deps: {
  bus: Publisher;
  dims: SiteDimensionTable;
  defs: DefinitionsTable;
  settings: InsightsSettings;
  clock?: () => number;
}): Job<EventRecord> {
  const clock = deps.clock ?? Date.now;
  const aggregate = () => insightStatsAggregate({ propertyBreakdowns: deps.settings.EVENT_PROPERTY_BREAKDOWNS });
  const minutes = minutePartitions({ aggregate, dimensions: deps.defs.table, settings: deps.settings, clock });

  async function emit(
    tx: pg.PoolClient,
    partition: number,
    emission: Emission<string, EventRecord, InsightStats>,
    touched: Set<string>,
  ): Promise<JobBatchResult> {
    const s = minutes.state(partition);
    for (const r of emission.results) {
      const tz = deps.dims.site(r.key).timezone;
      if (
        await writeInsightWindow(tx, {
          siteId: r.key,
          minute: r.windowStart,
          dayStart: localDayStart(r.windowStart, tz),
          partition,
          stats: r.value,
        })
      )
        touched.add(r.key);
    }
    // Partition −1's rows are shared by every partition (and worker) that folds a late event of the
    // site: two folds of one new row would both find nothing to lock, and the second upsert would
    // overwrite the first's visitor sketch. One site's folds take turns (sorted, transaction-scoped).
    if (emission.late.length)
      await lockSiteRows(
        tx,
        LATE_PARTITION,
        emission.late.map((l) => l.key),
      );
    for (const l of emission.late) {
      const agg = aggregate();
      const minute = Math.floor(l.timestamp / MINUTE) * MINUTE;
      const stats = agg.add(agg.create(), l.value);
      if (stats.cells.size === 0) continue;
      await foldLate(tx, l.key, minute, localDayStart(minute, deps.dims.site(l.key).timezone), stats);
      touched.add(l.key);
    }
    const checkpoint: Checkpoint = {
      operator: s.operator.snapshot(),
      dimensionVersion: deps.dims.table.version,
      definitionsVersion: deps.defs.table.version,
    };
    return { state: CHECKPOINT.encode(checkpoint), after: () => publishSiteChanges(deps.bus, touched) };
  }

  return {
    name: INSIGHTS_JOB,
    topic: topics.events,
    decode: decodeEvent,
    // Dedup by event id and a deleted site's records dropped, before apply (outcomes booked by the runtime).
    steps: eventSteps(INSIGHTS_JOB, deps.dims),
    siteOf: (record) => record.siteId,
    restore(partition, json) {
      minutes.restore(partition, json ? CHECKPOINT.decode(json).operator : null);
    },
    release(partition) {
      minutes.release(partition);
    },
    async apply(tx, partition, records) {
      const now = clock();
      const s = minutes.state(partition);
      const events = records.map((r) => r.record);
      const touched = new Set<string>();
      const conversions: { goal: string; event: string; site: string; visitor: string; ts: string }[] = [];
      for (const e of events) {
        s.silence.observe(e.ts);
        s.operator.process(partition, e.siteId, e.ts, e);
        for (const g of deps.defs.goals(e.siteId)) {
          if (matches(g.matcher, e))
            conversions.push({
              goal: g.id,
              event: e.eventId,
              site: e.siteId,
              visitor: e.visitorId,
              ts: new Date(e.ts).toISOString(),
            });
        }
      }
      if (conversions.length) {
        // Keyed by (goal, event): the web process's backfill of a new goal may have written some already.
        await tx.query(
          `INSERT INTO goal_conversions (goal_id, event_id, site_id, visitor_id, ts)
           SELECT u.g, u.e, u.s, u.v, u.t FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[]) AS u(g, e, s, v, t)
           JOIN goals ON goals.id = u.g
           ON CONFLICT DO NOTHING`,
          [
            conversions.map((c) => c.goal),
            conversions.map((c) => c.event),
            conversions.map((c) => c.site),
            conversions.map((c) => c.visitor),
            conversions.map((c) => c.ts),
          ],
        );
        for (const c of conversions) touched.add(c.site);
      }
      if (records.length) minutes.records(partition, now);
      return emit(tx, partition, s.operator.advanceWatermark(), touched);
    },
    async flush(tx, partition) {
      const emission = minutes.flush(partition);
      return emission ? emit(tx, partition, emission, new Set()) : undefined;
    },
    async tick(tx, partition) {
      const emission = minutes.tick(partition);
      return emission ? emit(tx, partition, emission, new Set()) : undefined;
    },
  };
}

// Partition −1's rows are only ever added to: replacing would overwrite earlier late events of the minute.
const foldLate = (tx: pg.PoolClient, siteId: string, minute: number, dayStart: number, stats: InsightStats) =>
  writeInsightDelta(tx, { siteId, minute, dayStart, partition: LATE_PARTITION, stats });
