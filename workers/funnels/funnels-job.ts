import type pg from 'pg';
import { topics, type Publisher } from '@/lib/bus';
import type { EventRecord } from '@/lib/events/record';
import { publishSiteChanges } from '@/lib/live/publish';
import { SilenceProgress, stateCodec, type Json } from '@/lib/stream';
import type { Job, JobBatchResult } from '../runtime';
import { eventSteps } from '../shared/event-steps';
import { decodeEvent } from '../shared/decode-event';
import { eventTimeSettings, type EventTimeEnv } from '../shared/event-time';
import type { DefinitionsTable } from '../insights/definitions';
import type { SiteDimensionTable } from '../shared/dimensions';
import { FunnelTracker, type AttemptUpdate } from './funnel-tracker';

// Funnels: count windows with an event-time timeout (funnel-tracker.ts), one tracker per
// events-topic partition (a visitor's events all land on one partition, so an attempt is
// complete there). Each batch upserts the attempts that fired — early while open, finally when
// complete or timed out — into funnel_attempts, in the transaction that stores the tracker's
// snapshot and the offsets: exactly once, replayable (workers/ops/replay.ts). A 'visit' funnel's
// attempts end with the visit: the site's session gap comes from the same side input the sessions
// job reads (`dims`), so both jobs draw a visit's end at the same pause.

export const FUNNELS_JOB = 'funnels';

// The tracker's own snapshot (workers/funnels/funnel-tracker.ts) checks its shape on restore.
type Checkpoint = { tracker: Json; definitionsVersion: number };
const CHECKPOINT = stateCodec<Checkpoint>({
  name: 'funnels checkpoint',
  version: 1,
  decode: (f) => ({ tracker: f.object('tracker'), definitionsVersion: f.number('definitionsVersion') }),
});

export function funnelsJob(deps: {
  bus: Publisher;
  defs: DefinitionsTable;
  dims: Pick<SiteDimensionTable, 'site'> & Partial<Pick<SiteDimensionTable, 'ensureKnown'>>;
  settings: EventTimeEnv;
  clock?: () => number;
}): Job<EventRecord> {
  const clock = deps.clock ?? Date.now;
  const trackers = new Map<number, { tracker: FunnelTracker; silence: SilenceProgress }>();
  const lastRecordAt = new Map<number, number>();
  /** Events the dedup step let through without claiming their id (their site had no funnels then). */
  const unclaimed = new WeakSet<EventRecord>();

  const fresh = (partition: number) => {
    const { outOfOrdernessMs, allowedLatenessMs, idleTimeoutMs } = eventTimeSettings(deps.settings);
    return {
      tracker: new FunnelTracker({ outOfOrdernessMs, allowedLatenessMs, partition }),
      silence: new SilenceProgress({ idleTimeoutMs, outOfOrdernessMs, clock }, lastRecordAt.get(partition)),
    };
  };
  const state = (partition: number) => {
    let s = trackers.get(partition);
    if (!s) trackers.set(partition, (s = fresh(partition)));
    return s;
  };

  async function write(tx: pg.PoolClient, partition: number, updates: AttemptUpdate[]): Promise<JobBatchResult> {
    const s = state(partition);
    const touched = new Set<string>();
    if (updates.length) {
      // The last firing of an attempt in this batch wins (firings come in order).
      const latest = new Map<string, AttemptUpdate>();
      for (const u of updates) latest.set(`${u.funnelId}|${u.visitorId}|${u.start}`, u);
      const rows = [...latest.values()];
      // Joined with funnels: an attempt of a funnel deleted meanwhile is not written (no foreign-key failure).
      const r = await tx.query<{ site_id: string }>(
        `INSERT INTO funnel_attempts (funnel_id, visitor_id, started_at, site_id, steps_reached, step_ms, closed, source_partition, updated_at)
         SELECT u.f, u.v, u.s, funnels.site_id, u.n, string_to_array(u.ms, ',')::int[], u.c, $7, now()
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], $6::bool[]) AS u(f, v, s, n, ms, c)
           JOIN funnels ON funnels.id = u.f
         ON CONFLICT (funnel_id, visitor_id, started_at) DO UPDATE
           SET steps_reached = EXCLUDED.steps_reached, step_ms = EXCLUDED.step_ms, closed = EXCLUDED.closed, updated_at = now()
         RETURNING site_id`,
        [
          rows.map((u) => u.funnelId),
          rows.map((u) => u.visitorId),
          rows.map((u) => new Date(u.start).toISOString()),
          rows.map((u) => u.stepTs.length),
          rows.map((u) => u.stepTs.map((t) => Math.max(0, Math.min(2_147_483_647, t - u.start))).join(',')),
          rows.map((u) => u.closed),
          partition,
        ],
      );
      for (const row of r.rows) touched.add(row.site_id);
    }
    const checkpoint: Checkpoint = { tracker: s.tracker.snapshot(), definitionsVersion: deps.defs.table.version };
    return { state: CHECKPOINT.encode(checkpoint), after: () => publishSiteChanges(deps.bus, touched) };
  }

  return {
    name: FUNNELS_JOB,
    topic: topics.events,
    decode: decodeEvent,
    // Dedup by event id and a deleted site's records dropped, before apply (outcomes booked by the
    // runtime). Only events of a site with funnels are claimed: the others only move the job's
    // event time, so a re-send of one is not dropped but moves it like any event arriving then
    // (collect stamps a retry with its own receive time, never later than a fresh event's).
    // Which ones were not claimed is remembered, so that a funnel defined between this step and
    // apply (the definitions refresh meanwhile) never counts an unclaimed, possibly re-sent event;
    // a funnel defined after an event counts its later re-send once, the original having counted
    // in none.
    steps: eventSteps(FUNNELS_JOB, deps.dims, (e) => {
      if (deps.defs.funnels(e.siteId).length > 0) return true;
      unclaimed.add(e);
      return false;
    }),
    siteOf: (record) => record.siteId,
    restore(partition, json) {
      const s = fresh(partition);
      if (json) s.tracker.restore(CHECKPOINT.decode(json).tracker);
      trackers.set(partition, s);
    },
    release(partition) {
      trackers.delete(partition);
    },
    async apply(tx, partition, records) {
      const s = state(partition);
      const events = records.map((r) => r.record);
      for (const e of events) {
        const funnels = unclaimed.has(e) ? [] : deps.defs.funnels(e.siteId);
        if (funnels.length) s.tracker.process(e, funnels, deps.dims.site(e.siteId).sessionGapMs);
        else if (e.ts > s.tracker.maxTs) s.tracker.maxTs = e.ts; // event time moves with every event, funnel or not
      }
      if (records.length) {
        const now = clock();
        s.silence.records(now);
        lastRecordAt.set(partition, now);
      }
      return write(tx, partition, s.tracker.advance());
    },
    async flush(tx, partition) {
      const s = trackers.get(partition);
      return s ? write(tx, partition, s.tracker.advanceTo(Number.POSITIVE_INFINITY)) : undefined;
    },
    async tick(tx, partition) {
      const s = trackers.get(partition);
      if (!s || s.tracker.openWindowCount === 0) return undefined;
      // The tracker keeps its own newest event time (restored with it).
      s.silence.observe(s.tracker.maxTs);
      const target = s.silence.target();
      if (target === null || target <= s.tracker.watermark) return undefined;
      return write(tx, partition, s.tracker.advanceTo(target));
    },
  };
}
