import type pg from 'pg';
import { topics, type Bus } from '@/lib/bus';
import { ensureDailyPartitions } from '@/lib/events/archive';
import type { EventRecord } from '@/lib/events/record';
import { publishSiteChanges } from '@/lib/live/publish';
import { earlyFiringTrigger, tumblingWindows, windowOperator, type Emission, type Json, type OperatorSnapshot, type WindowOperator } from '@/lib/stream';
import { claimEventIds, lockSiteRows, type Job, type JobBatchResult } from '../runtime';
import { decodeEvent } from '../shared/decode-event';
import { contentGroupOf, localDayStart, type SiteDimensionTable } from '../shared/dimensions';
import { eventTimeSettings, idleWatermark } from '../shared/event-time';
import { minuteStatsAggregate, type MinuteStats, type RollupInput } from './minute-stats';
import { writeWindow } from './rollup-sink';

// Rollups: tumbling 1-minute windows per site, with breakdowns (see minute-stats.ts), one
// operator per events-topic partition. Besides on-time and late firings, the operator's trigger
// fires every minute the batch changed early (accumulating: the minute so far), which is what keeps
// the live dashboard live; the sink replaces minute rows, so refinements need no retractions.
// Events beyond allowed lateness go to late_events + the `late` topic and are counted in the
// ledger; reconcile-job.ts folds them in exactly once. This job also archives raw events.

const MINUTE = 60_000;
export const ROLLUPS_JOB = 'rollups';

interface PartitionState {
  operator: WindowOperator<string, RollupInput, MinuteStats>;
  lastRecordAt: number;
  maxEventTs: number;
}

interface Checkpoint {
  operator: OperatorSnapshot;
  dimensionVersion: number;
}

export function rollupsJob(deps: { bus: Bus; db: pg.Pool; dims: SiteDimensionTable; clock?: () => number }): Job<EventRecord> {
  const clock = deps.clock ?? Date.now;
  const partitions = new Map<number, PartitionState>();
  // When this process last saw records per partition: survives re-assignment (see sessions-job.ts).
  const lastRecordAt = new Map<number, number>();
  let partitionsCheckedAt = 0;

  const fresh = (partition: number): PartitionState => {
    const { outOfOrdernessMs, allowedLatenessMs } = eventTimeSettings();
    const operator = windowOperator<RollupInput, MinuteStats, MinuteStats>(tumblingWindows(MINUTE), minuteStatsAggregate(), {
      outOfOrdernessMs,
      allowedLatenessMs,
      dimensions: deps.dims.table,
      trigger: earlyFiringTrigger({ everyBatch: true }),
    });
    operator.addPartition(partition);
    return { operator, lastRecordAt: lastRecordAt.get(partition) ?? clock(), maxEventTs: Number.NEGATIVE_INFINITY };
  };
  const state = (partition: number) => {
    let s = partitions.get(partition);
    if (!s) partitions.set(partition, (s = fresh(partition)));
    return s;
  };

  async function emit(tx: pg.PoolClient, partition: number, emission: Emission<string, RollupInput, MinuteStats>): Promise<JobBatchResult> {
    const op = state(partition).operator;
    await lockSiteRows(tx, partition, emission.results.map((r) => r.key));
    const changed = new Set<string>();
    // Late, on-time and early firings alike carry the whole minute so far: each replaces the row.
    for (const r of emission.results) {
      const tz = deps.dims.site(r.key).timezone;
      if (await writeWindow(tx, { siteId: r.key, minute: r.windowStart, dayStart: localDayStart(r.windowStart, tz), partition, stats: r.value })) changed.add(r.key);
    }
    const late = emission.late;
    if (late.length) {
      await tx.query(
        `INSERT INTO late_events (event_id, site_id, ts, record, job, watermark)
         SELECT u.id, u.site, u.ts, u.record, $1, u.wm FROM unnest($2::uuid[], $3::uuid[], $4::timestamptz[], $5::jsonb[], $6::bigint[]) AS u(id, site, ts, record, wm)
         ON CONFLICT DO NOTHING`,
        [
          ROLLUPS_JOB,
          late.map((l) => l.value.record.eventId),
          late.map((l) => l.key),
          late.map((l) => new Date(l.timestamp).toISOString()),
          late.map((l) => JSON.stringify(l.value.record)),
          late.map((l) => Math.trunc(l.watermark)),
        ],
      );
      const perSite = new Map<string, number>();
      for (const l of late) perSite.set(l.key, (perSite.get(l.key) ?? 0) + 1);
      await tx.query(
        `INSERT INTO ingestion_ledger (site_id, minute, late) SELECT u.site, date_trunc('minute', now()), u.n FROM unnest($1::uuid[], $2::int[]) AS u(site, n)
         ON CONFLICT (site_id, minute) DO UPDATE SET late = ingestion_ledger.late + EXCLUDED.late`,
        [[...perSite.keys()], [...perSite.values()]],
      );
    }
    const checkpoint: Checkpoint = { operator: op.snapshot(), dimensionVersion: deps.dims.table.version };
    return {
      state: checkpoint as unknown as Json,
      after: async () => {
        if (late.length) {
          await deps.bus.producer().send(
            topics.late,
            late.map((l) => ({ key: l.key, value: JSON.stringify({ job: ROLLUPS_JOB, watermark: l.watermark, record: l.value.record }) })),
          );
        }
        await publishSiteChanges(deps.bus, changed);
      },
    };
  }

  return {
    name: ROLLUPS_JOB,
    topic: topics.events,
    booksLedger: true,
    decode: decodeEvent,
    siteOf: (record) => record.siteId,
    restore(partition, json) {
      const s = fresh(partition);
      if (json) {
        s.operator.restore((json as unknown as Checkpoint).operator as unknown as Json);
        s.maxEventTs = s.operator.watermark + eventTimeSettings().outOfOrdernessMs + 1;
      }
      partitions.set(partition, s);
    },
    release(partition) {
      partitions.delete(partition);
    },
    async apply(tx, partition, records) {
      const now = clock();
      if (now - partitionsCheckedAt > 3_600_000) {
        await ensureDailyPartitions(deps.db, now);
        partitionsCheckedAt = now;
      }
      const s = state(partition);
      const events = await claimEventIds(tx, ROLLUPS_JOB, records.map((r) => r.record), { bookDuplicates: true });
      if (events.length) {
        await tx.query(
          `INSERT INTO events (event_id, site_id, visitor_id, name, url, ts, received_at, record)
           SELECT u.id, u.site, u.visitor, u.name, u.url, u.ts, u.received, u.record
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::jsonb[])
             AS u(id, site, visitor, name, url, ts, received, record)`,
          [
            events.map((e) => e.eventId),
            events.map((e) => e.siteId),
            events.map((e) => e.visitorId),
            events.map((e) => e.name),
            events.map((e) => e.url),
            events.map((e) => new Date(e.ts).toISOString()),
            events.map((e) => new Date(e.receivedAt ?? e.ts).toISOString()),
            events.map((e) => JSON.stringify(e)),
          ],
        );
      }
      for (const e of events) {
        if (e.ts > s.maxEventTs) s.maxEventTs = e.ts;
        s.operator.process(partition, e.siteId, e.ts, { record: e, contentGroup: contentGroupOf(deps.dims.site(e.siteId), e.path) });
      }
      if (records.length) lastRecordAt.set(partition, (s.lastRecordAt = now));
      // Once per batch: on-time and late firings, then early firings of the minutes it changed.
      return emit(tx, partition, s.operator.advanceWatermark());
    },
    async flush(tx, partition) {
      const s = partitions.get(partition);
      return s ? emit(tx, partition, s.operator.advanceWatermarkTo(Number.POSITIVE_INFINITY)) : undefined;
    },
    async tick(tx, partition) {
      const s = partitions.get(partition);
      if (!s) return undefined;
      const target = idleWatermark(s.maxEventTs, s.lastRecordAt, clock());
      if (target === null || target <= s.operator.watermark || s.operator.openWindowCount === 0) return undefined;
      return emit(tx, partition, s.operator.advanceWatermarkTo(target));
    },
  };
}
