import type pg from 'pg';
import { topics, type Publisher } from '@/lib/bus';
import { ensureDailyPartitions } from '@/lib/events/archive';
import { HOUR } from '@/lib/time';
import type { EventRecord } from '@/lib/events/record';
import { publishSiteChanges } from '@/lib/live/publish';
import { type Emission, stateCodec, type Json } from '@/lib/stream';
import type { Job, JobBatchResult } from '../runtime';
import { eventSteps } from '../shared/event-steps';
import { lockSiteRows } from '../shared/site-locks';
import { decodeEvent } from '../shared/decode-event';
import { contentGroupOf, localDayStart, type SiteDimensionTable } from '../shared/dimensions';
import type { EventTimeEnv } from '../shared/event-time';
import { minutePartitions } from '../shared/minute-partitions';
import { eventKind, eventValues, key, ValueDictionary, type ValueKind } from '../shared/value-dictionary';
import { minuteStatsAggregate, type MinuteStats, type RollupInput } from './minute-stats';
import { writeWindow } from './rollup-sink';

// Rollups: tumbling 1-minute windows per site, with breakdowns (see minute-stats.ts), one
// operator per events-topic partition. Besides on-time and late firings, the operator's trigger
// fires every minute the batch changed early (accumulating: the minute so far), which is what keeps
// the live dashboard live; the sink replaces minute rows, so refinements need no retractions.
// Events beyond allowed lateness go to late_events + the `late` topic and are counted in the
// ledger; reconcile-job.ts folds them in exactly once. This job also archives raw events.

export const ROLLUPS_JOB = 'rollups';

// The operator's snapshot is versioned by lib/stream and checked by its restore().
type Checkpoint = { operator: Json; dimensionVersion: number };
const CHECKPOINT = stateCodec<Checkpoint>({
  name: 'rollups checkpoint',
  version: 1,
  decode: (f) => ({ operator: f.object('operator'), dimensionVersion: f.number('dimensionVersion') }),
});

export function rollupsJob(deps: {
  bus: Publisher;
  db: pg.Pool;
  dims: SiteDimensionTable;
  settings: EventTimeEnv;
  clock?: () => number;
}): Job<EventRecord> {
  const clock = deps.clock ?? Date.now;
  const minutes = minutePartitions({
    aggregate: minuteStatsAggregate,
    dimensions: deps.dims.table,
    settings: deps.settings,
    clock,
  });
  let partitionsCheckedAt = 0;
  const dictionary = new ValueDictionary(deps.db);

  async function emit(
    tx: pg.PoolClient,
    partition: number,
    emission: Emission<string, RollupInput, MinuteStats>,
  ): Promise<JobBatchResult> {
    const op = minutes.state(partition).operator;
    await lockSiteRows(
      tx,
      partition,
      emission.results.map((r) => r.key),
    );
    const changed = new Set<string>();
    // Late, on-time and early firings alike carry the whole minute so far: each replaces the row.
    for (const r of emission.results) {
      const tz = deps.dims.site(r.key).timezone;
      if (
        await writeWindow(tx, {
          siteId: r.key,
          minute: r.windowStart,
          dayStart: localDayStart(r.windowStart, tz),
          partition,
          stats: r.value,
        })
      )
        changed.add(r.key);
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
      const counted = new Map<string, number>();
      for (const l of late) counted.set(l.key, (counted.get(l.key) ?? 0) + 1);
      // In site order, like every ledger upsert of a batch (workers/consumer/dead-letters.ts).
      const perSite = new Map([...counted].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
      await tx.query(
        `INSERT INTO ingestion_ledger (site_id, minute, late) SELECT u.site, date_trunc('minute', now()), u.n FROM unnest($1::uuid[], $2::int[]) AS u(site, n)
         ON CONFLICT (site_id, minute) DO UPDATE SET late = ingestion_ledger.late + EXCLUDED.late`,
        [[...perSite.keys()], [...perSite.values()]],
      );
    }
    const checkpoint: Checkpoint = { operator: op.snapshot(), dimensionVersion: deps.dims.table.version };
    return {
      state: CHECKPOINT.encode(checkpoint),
      after: async () => {
        if (late.length) {
          await deps.bus.producer().send(
            topics.late,
            late.map((l) => ({
              key: l.key,
              value: JSON.stringify({ job: ROLLUPS_JOB, watermark: l.watermark, record: l.value.record }),
            })),
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
    // Dedup by event id and a deleted site's records dropped, before apply (outcomes booked by the runtime).
    steps: eventSteps(ROLLUPS_JOB, deps.dims),
    siteOf: (record) => record.siteId,
    restore(partition, json) {
      minutes.restore(partition, json ? CHECKPOINT.decode(json).operator : null);
    },
    release(partition) {
      minutes.release(partition);
    },
    async apply(tx, partition, records) {
      const now = clock();
      if (now - partitionsCheckedAt > HOUR) {
        // The archive's day partitions, three days ahead, on the pool — and not awaited: this
        // transaction may already hold a lock on `events` (a batch applied record by record), and
        // waiting here for DDL that waits for this transaction would hang both, unseen by
        // PostgreSQL. Claimed first, so partitions applied at once do not all run it; a failure is
        // retried at the next batch (rows of a day without its partition land in events_default).
        partitionsCheckedAt = now;
        void ensureDailyPartitions(deps.db, now).catch((e: unknown) => {
          partitionsCheckedAt = 0;
          console.error(`[${ROLLUPS_JOB}] daily archive partitions: ${(e as Error).message}`);
        });
      }
      const s = minutes.state(partition);
      const events = records.map((r) => r.record);
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
      // Server requests (events API) are in no filtered view, as in the rollups' totals.
      const learnt = await writeEventFacts(
        tx,
        dictionary,
        events.filter((e) => !e.request),
      );
      for (const e of events) {
        s.silence.observe(e.ts);
        s.operator.process(partition, e.siteId, e.ts, {
          record: e,
          contentGroup: contentGroupOf(deps.dims.site(e.siteId), e.path),
        });
      }
      if (records.length) minutes.records(partition, now);
      // Once per batch: on-time and late firings, then early firings of the minutes it changed.
      const result = await emit(tx, partition, s.operator.advanceWatermark());
      return {
        ...result,
        after: async () => {
          dictionary.commit(learnt);
          await result.after?.();
        },
      };
    },
    async flush(tx, partition) {
      const emission = minutes.flush(partition);
      return emission ? emit(tx, partition, emission) : undefined;
    },
    async tick(tx, partition) {
      const emission = minutes.tick(partition);
      return emission ? emit(tx, partition, emission) : undefined;
    },
  };
}

/**
 * The archived events' narrow copy for filtered views (event_facts), in the archive's transaction:
 * the same claimed events, so exactly once like the archive. Returns the dictionary ids learnt.
 */
async function writeEventFacts(
  tx: pg.PoolClient,
  dictionary: ValueDictionary,
  events: EventRecord[],
): Promise<Map<string, number>> {
  if (events.length === 0) return new Map();
  const values = events.map((e) => eventValues(e));
  const wanted: [string, ValueKind, string][] = [];
  events.forEach((e, i) => {
    for (const [kind, v] of values[i]!) if (v !== null) wanted.push([e.siteId, kind, v]);
  });
  const { ids, learnt } = await dictionary.resolve(tx, wanted);
  // Column order of eventValues(): page, referrer, channel, utm_source, utm_medium, utm_campaign, country, device, browser, os.
  const columns: (number | null)[][] = Array.from({ length: 10 }, () => []);
  events.forEach((e, i) => {
    values[i]!.forEach(([kind, v], c) => columns[c]!.push(v === null ? null : ids.get(key(e.siteId, kind, v))!));
  });
  await tx.query(
    `INSERT INTO event_facts (site_id, ts, event_id, visitor, kind, page, referrer, channel, utm_source, utm_medium, utm_campaign, country, device, browser, os)
     SELECT u.site, u.ts, u.id, hashtextextended(u.visitor, 0), u.kind, u.page, u.referrer, u.channel, u.us, u.um, u.uc, u.country, u.device, u.browser, u.os
       FROM unnest($1::uuid[], $2::timestamptz[], $3::uuid[], $4::text[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[], $10::int[], $11::int[], $12::int[], $13::int[], $14::int[], $15::int[])
         AS u(site, ts, id, visitor, kind, page, referrer, channel, us, um, uc, country, device, browser, os)`,
    [
      events.map((e) => e.siteId),
      events.map((e) => new Date(e.ts).toISOString()),
      events.map((e) => e.eventId),
      events.map((e) => e.visitorId),
      events.map((e) => eventKind(e.name)),
      ...columns,
    ],
  );
  return learnt;
}
