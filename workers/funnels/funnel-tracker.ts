import {
  asArray,
  asNumber,
  asObject,
  CountWindowOperator,
  countWindows,
  earlyFiringTrigger,
  SnapshotError,
  type Json,
  type WindowResult,
} from '@/lib/stream';
import { matches, type CompiledMatcher, type MatchableEvent } from '@/lib/goals/definition';
import type { FunnelScope } from '@/lib/funnels/definition';

// Funnels on count windows (stream-semantics.md, vector 7). One attempt of one visitor at one
// funnel is one count window keyed (funnel, visitor, first-step time): it receives only the
// events that reach the visitor's *next* step, so it holds n elements exactly when the funnel is
// complete and closes then; otherwise an event-time deadline closes it (the last step may never
// come). Early firings after every batch (accumulating) make open attempts visible while they are
// open; the sink upserts by (funnel, visitor, start). Pure, with injected event time: the job and
// the oracle test drive it.
//
// The deadline depends on the funnel's scope:
// - 'window': first-step time + the funnel's time limit (the count window's timeout).
// - 'visit': the end of the visit, as the sessions job draws it — the attempt ends after a pause
//   longer than the site's session gap. Every event of the visitor (not only steps) moves the
//   window's end to its time + gap + 1 (`extend`): an event exactly one gap later still belongs to
//   the visit, as touching session windows merge. Server requests (events API) are not part of
//   visits, as in the sessions job: a visit-scope funnel ignores them.
//
// Semantics (held to a brute-force oracle, funnel-tracker.property.test.ts): per funnel and
// visitor, in arrival order: an event at or past an open attempt's deadline ends it first; an
// event matching the next step of the open attempt advances it; with no open attempt, an event
// matching step 1 starts one. Events of one visitor share a partition and arrive in order.
// A first step later than allowed lateness goes to the late side output (counted, not started).
//
// State per open attempt: the operator's window (key, start, end, size, the step times — n
// numbers) plus one index entry here (rebuilt from the operator snapshot on restore, so not stored
// twice). Snapshots from before scopes restore as they were: their operators are 'window' ones and
// their windows end at the timeout.

export interface FunnelSpec {
  id: string;
  siteId: string;
  steps: CompiledMatcher[];
  scope: FunnelScope;
  /** The time limit of a 'window' funnel (unused by 'visit'). */
  windowMs: number;
}

export interface FunnelEvent extends MatchableEvent {
  siteId: string;
  visitorId: string;
  ts: number;
  /** Set on server requests (the events API): not part of a visit. */
  request?: object;
}

/** One firing of one attempt: the sink's row. */
export interface AttemptUpdate {
  funnelId: string;
  visitorId: string;
  start: number;
  /** Event time of each step reached, first step first. */
  stepTs: number[];
  /** Completed or timed out: no further firing will change it. */
  closed: boolean;
}

const SEP = '\u001f';

interface OpenAttempt {
  key: string;
  start: number;
  reached: number;
  steps: number;
  /** First event time past the attempt: an event at or after it ends the attempt. */
  deadline: number;
  /** The operator holding its window (a funnel redefined meanwhile keeps its attempt there). */
  op: Op;
  /** Whether activity extends the deadline (a 'visit' funnel). */
  visit: boolean;
}

const stepTimes = {
  create: (): number[] => [],
  add: (acc: number[], ts: number) => (acc.push(ts), acc),
  merge: (into: number[], other: number[]) => into.concat(other),
  result: (acc: number[]) => acc.slice(),
  // A copy: the window goes on adding to its array, and a snapshot is kept as the committed
  // checkpoint (rollback, and the state a batch sees at the version memory came from).
  toJSON: (acc: number[]) => acc.slice() as Json,
  fromJSON: (json: Json) => (json as number[]).slice(),
};

type Op = CountWindowOperator<string, number, number[], number[]>;

export class FunnelTracker {
  /**
   * One count-window operator per (steps, timeout, scope): the assigner is fixed per operator; a
   * 'visit' operator's timeout is the session gap + 1, so a new attempt's first deadline is its
   * visit's end. Checkpointed, by id `steps:timeout` ('window') or `steps:timeout:visit`.
   */
  private readonly operators = new Map<string, Op>();
  /** Open attempt per (funnel, visitor). Derived from the operators' windows. */
  private readonly open = new Map<string, OpenAttempt>();
  /** Largest event time seen (the partition's watermark is maxTs − B − 1). Checkpointed. */
  maxTs = Number.NEGATIVE_INFINITY;
  lateCount = 0;

  constructor(private readonly opts: { outOfOrdernessMs: number; allowedLatenessMs: number; partition?: number }) {}

  get watermark(): number {
    let wm = Number.NEGATIVE_INFINITY;
    for (const op of this.operators.values()) wm = Math.max(wm, op.watermark);
    return wm;
  }

  /** Attempts a visitor can still advance. */
  get openAttempts(): number {
    return this.open.size;
  }

  /** Windows not fired yet (including attempts past their deadline that the watermark has not closed). */
  get openWindowCount(): number {
    let n = 0;
    for (const op of this.operators.values()) n += op.openWindowCount;
    return n;
  }

  private operator(steps: number, timeoutMs: number, scope: FunnelScope): Op {
    const id = scope === 'visit' ? `${steps}:${timeoutMs}:visit` : `${steps}:${timeoutMs}`;
    let op = this.operators.get(id);
    if (!op) {
      op = new CountWindowOperator<string, number, number[], number[]>(countWindows(steps, timeoutMs), stepTimes, {
        outOfOrdernessMs: this.opts.outOfOrdernessMs,
        allowedLatenessMs: this.opts.allowedLatenessMs,
        trigger: earlyFiringTrigger({ everyBatch: true }),
      });
      op.addPartition(this.opts.partition ?? 0);
      // A new operator starts where event time already is, so it judges lateness like the others.
      const wm = this.watermarkFor();
      if (Number.isFinite(wm)) op.advanceWatermarkTo(wm);
      this.operators.set(id, op);
    }
    return op;
  }

  private watermarkFor(): number {
    return this.maxTs - this.opts.outOfOrdernessMs - 1;
  }

  /**
   * Feeds one event to the funnels of its site (already chosen by the caller). `sessionGapMs` is the
   * site's session gap (sites.session_gap_minutes, as the sessions job reads it): where a visit ends.
   */
  process(e: FunnelEvent, funnels: readonly FunnelSpec[], sessionGapMs: number): void {
    if (e.ts > this.maxTs) this.maxTs = e.ts;
    const partition = this.opts.partition ?? 0;
    for (const f of funnels) {
      if (f.steps.length === 0) continue;
      if (f.scope === 'visit' && e.request) continue;
      const id = `${f.id}${SEP}${e.visitorId}`;
      let cur = this.open.get(id);
      // Past its deadline in event time: the watermark will close it; this event may start the next.
      if (cur && e.ts >= cur.deadline) {
        this.open.delete(id);
        cur = undefined;
      }
      if (cur) {
        // Any event of the visitor keeps the visit, and so the attempt, going. (Never shorter, as
        // the window cannot shrink: a gap lowered in the settings applies to the next attempt.)
        if (cur.visit) {
          cur.deadline = Math.max(cur.deadline, e.ts + sessionGapMs + 1);
          cur.op.extend(cur.key, cur.deadline);
        }
        const next = f.steps[cur.reached];
        if (next && matches(next, e)) {
          cur.op.process(partition, cur.key, e.ts, e.ts);
          cur.reached++;
          if (cur.reached >= cur.steps) this.open.delete(id);
        }
      } else if (matches(f.steps[0]!, e)) {
        const visit = f.scope === 'visit';
        const timeout = visit ? sessionGapMs + 1 : f.windowMs;
        const op = this.operator(f.steps.length, timeout, f.scope);
        const key = `${id}${SEP}${e.ts}`;
        op.process(partition, key, e.ts, e.ts);
        // No window opened: the first step was later than allowed lateness (the late side output).
        if (op.openWindows(key).length === 0) continue;
        if (f.steps.length > 1)
          this.open.set(id, {
            key,
            start: e.ts,
            reached: 1,
            steps: f.steps.length,
            deadline: e.ts + timeout,
            op,
            visit,
          });
      }
    }
  }

  /** Once per batch: closes what the watermark passed, then fires the open attempts that changed. */
  advance(): AttemptUpdate[] {
    return this.advanceTo(this.watermarkFor());
  }

  /** Moves event time to `watermark` (end of input: +∞; a quiet partition: the idle watermark). */
  advanceTo(watermark: number): AttemptUpdate[] {
    const out: AttemptUpdate[] = [];
    for (const op of this.operators.values()) {
      const closed = op.advanceWatermarkTo(watermark);
      const early = op.fireEarly();
      for (const r of [...closed.results, ...early.results]) out.push(this.update(r));
      // Late first steps (the side output): counted, never started.
      this.lateCount += closed.late.length + early.late.length;
    }
    return out;
  }

  private update(r: WindowResult<string, number[]>): AttemptUpdate {
    const [funnelId, visitorId, start] = r.key.split(SEP) as [string, string, string];
    const closed = r.kind !== 'early';
    if (closed) {
      const id = `${funnelId}${SEP}${visitorId}`;
      if (this.open.get(id)?.key === r.key) this.open.delete(id);
    }
    return { funnelId, visitorId, start: Number(start), stepTs: r.value, closed };
  }

  snapshot(): Json {
    return {
      maxTs: Number.isFinite(this.maxTs) ? this.maxTs : null,
      lateCount: this.lateCount,
      operators: [...this.operators].map(([id, op]) => [id, op.snapshot()]),
    };
  }

  restore(json: Json | null): void {
    this.operators.clear();
    this.open.clear();
    this.maxTs = Number.NEGATIVE_INFINITY;
    this.lateCount = 0;
    if (json === null) return;
    const s = asObject(json, 'funnel tracker');
    this.maxTs =
      s.maxTs === null || s.maxTs === undefined ? Number.NEGATIVE_INFINITY : asNumber(s.maxTs, 'funnel tracker.maxTs');
    this.lateCount = s.lateCount === undefined ? 0 : asNumber(s.lateCount, 'funnel tracker.lateCount');
    for (const [i, entry] of asArray(s.operators, 'funnel tracker.operators').entries()) {
      const pair = asArray(entry, `funnel tracker.operators[${i}]`);
      if (pair.length !== 2 || typeof pair[0] !== 'string')
        throw new SnapshotError(`funnel tracker.operators[${i}] must be [id, snapshot]`);
      const [id, snap] = [pair[0], pair[1]!];
      const [steps, timeout, scope] = id.split(':') as [string, string, string | undefined];
      const visit = scope === 'visit';
      const op = this.operator(Number(steps), Number(timeout), visit ? 'visit' : 'window');
      op.restore(snap);
      // Rebuild the index from the windows the snapshot holds (key, start, end, size).
      for (const w of op.openWindowsOfAllKeys()) {
        const [funnelId, visitorId] = w.key.split(SEP) as [string, string];
        const id2 = `${funnelId}${SEP}${visitorId}`;
        const prev = this.open.get(id2);
        // Two open windows of one (funnel, visitor) — an expired one not yet closed and its successor: the later one is current.
        if (!prev || prev.start < w.start)
          this.open.set(id2, {
            key: w.key,
            start: w.start,
            reached: w.size,
            steps: Number(steps),
            deadline: w.end,
            op,
            visit,
          });
      }
    }
  }
}
