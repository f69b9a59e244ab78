// Session windows: each element opens [ts, ts + gap) and windows of one key that overlap or touch
// merge, so a session is a run of events with no pause longer than the gap.
//
// Per key the live sessions form a linked list sorted by start; they are pairwise disjoint and never
// touch (touching ones would have merged), so the sessions an element joins are one contiguous run,
// and there is usually just one. One object per session, no per-key arrays: keys are visitors and
// most have a single open session, so this is what the per-session memory budget pays for.
//
// Lateness is judged on the merged window: an element whose own window is already past cleanup is
// still accepted when it touches a live session. Merging after a firing changes the bounds that the
// sink stored, so the session remembers what it emitted (and what the sessions merged into it
// emitted) and reports it as retractions with its next firing (which always comes: a merged session
// is either due now, or has a timer, or is changed and fires at the next early firing).

import type { Aggregate } from './aggregates';
import type { SessionWindows } from './assigners';
import { SnapshotError } from './errors';
import { asArray, asBoolean, asNumber, asObject, jsonEqual, type Json } from './json';
import {
  decodeKey,
  KeyedWindowOperator,
  type DecodeContext,
  type EmittedPane,
  type FiringKind,
  type Key,
  type OpenWindow,
  type OperatorOptions,
} from './operator';
import { TimerHeap, type Timed } from './timer-heap';
import type { PartitionId } from './watermarks';

/**
 * In a snapshot, marks an emitted pane whose accumulator equals the session's own value (written
 * once, as the session's). A key of the pane rather than a value of `acc`: an aggregate's JSON form
 * may be any value, a string included.
 */
const SAME_AS_VALUE = 'accIsValue';

class Session<K, A> implements Timed {
  heapIndex = -1;
  /** Next session of the same key (by start), or null. */
  next: Session<K, A> | null = null;
  /**
   * This session's last firing (its bounds may since have grown): what its next firing replaces.
   * Checkpointed; null when it never fired.
   */
  emitted: EmittedPane<A> | null = null;
  /**
   * Last firings of sessions merged into this one since its own last firing: the sink still holds
   * them, so the next firing retracts them. Checkpointed; null when none.
   */
  superseded: EmittedPane<A>[] | null = null;

  constructor(
    readonly key: K,
    public start: number,
    public end: number,
    /** Everything in the session (discarding mode: since its last firing). Checkpointed via the aggregate's codec. */
    public acc: A,
    /** Whether the on-time (or first late) firing for the current bounds happened; then the timer is cleanup, else the firing. Checkpointed. */
    public fired: boolean,
    /** Derived from `fired`, the bounds and the configured lateness; recomputed on restore. */
    public timerAt: number,
  ) {}
}

export class SessionWindowOperator<K extends Key, V, A, R> extends KeyedWindowOperator<K, V, A, R> {
  readonly gap: number;
  /** First (earliest) session of each key. Checkpointed (as the sessions themselves). */
  private readonly heads = new Map<K, Session<K, A>>();
  /** Every live session once, by due time. Checkpointed in heap order, so ties break the same after a restore. */
  private readonly timers = new TimerHeap<Session<K, A>>();
  /** Sessions that changed since their last firing and are not due: the next early firing's work. Checkpointed (a flag per session). */
  private readonly changed = new Set<Session<K, A>>();

  constructor(assigner: SessionWindows, aggregate: Aggregate<V, A, R>, options: OperatorOptions = {}) {
    super('session-windows', assigner, aggregate, options);
    this.gap = assigner.gap;
  }

  get openWindowCount(): number {
    return this.timers.size;
  }

  /** Number of keys with at least one live session (e.g. current visitors when keyed by visitor). */
  get keyCount(): number {
    return this.heads.size;
  }

  protected accept(partition: PartitionId, key: K, ts: number, value: V): void {
    const wm = this.currentWatermark;
    const lateness = this.allowedLateness;
    const newEnd = ts + this.gap;

    let previous: Session<K, A> | null = null;
    let session = this.heads.get(key) ?? null;
    while (session !== null && session.end < ts) {
      previous = session;
      session = session.next;
    }

    if (session === null || session.start > newEnd) {
      // Touches no live session: the element's own window decides whether it is late.
      if (newEnd - 1 + lateness <= wm) {
        this.emitLate(partition, key, ts, value);
        return;
      }
      const due = newEnd - 1 <= wm;
      const created = new Session<K, A>(
        key,
        ts,
        newEnd,
        this.aggregate.add(this.aggregate.create(), value),
        false,
        newEnd - 1,
      );
      created.next = session;
      if (previous === null) this.heads.set(key, created);
      else previous.next = created;
      if (due) this.fire(created, 'late');
      else this.changed.add(created);
      this.timers.push(created);
      return;
    }

    // Merge the element's window with `session` and with every following session it now reaches.
    const target = session;
    const start = ts < target.start ? ts : target.start;
    let end = newEnd > target.end ? newEnd : target.end;
    let absorbed = target.next;
    let superseded = target.superseded;
    while (absorbed !== null && absorbed.start <= end) {
      if (absorbed.end > end) end = absorbed.end;
      target.acc = this.aggregate.merge(target.acc, absorbed.acc);
      if (absorbed.superseded !== null) (superseded ??= []).push(...absorbed.superseded);
      if (absorbed.emitted !== null) (superseded ??= []).push(absorbed.emitted);
      this.timers.remove(absorbed);
      this.changed.delete(absorbed);
      absorbed = absorbed.next;
    }
    target.next = absorbed;
    target.superseded = superseded;
    if (start !== target.start || end !== target.end) {
      // New bounds: a new window that has not fired; `emitted` keeps the old bounds to retract.
      target.fired = false;
      target.start = start;
      target.end = end;
    }
    target.acc = this.aggregate.add(target.acc, value);

    if (end - 1 <= wm) {
      this.fire(target, 'late');
    } else {
      target.timerAt = end - 1;
      this.changed.add(target);
    }
    this.timers.update(target);
  }

  protected fireTimersUpTo(wm: number): void {
    for (
      let session = this.timers.peek();
      session !== undefined && session.timerAt <= wm;
      session = this.timers.peek()
    ) {
      if (!session.fired) {
        this.fire(session, 'on-time');
        this.timers.update(session);
      } else {
        this.timers.remove(session);
        this.unlink(session);
      }
    }
  }

  protected fireChangedWindows(): void {
    if (this.changed.size === 0) return;
    const wm = this.currentWatermark;
    const due = [...this.changed].filter((s) => s.end - 1 > wm);
    due.sort((a, b) => a.end - b.end || a.start - b.start || compareKeys(a.key, b.key));
    for (const session of due) this.fire(session, 'early');
    this.changed.clear();
  }

  openWindows(key: K): OpenWindow<R>[] {
    const windows: OpenWindow<R>[] = [];
    for (let s = this.heads.get(key) ?? null; s !== null; s = s.next) {
      windows.push({ start: s.start, end: s.end, fired: s.fired, value: this.aggregate.result(s.acc) });
    }
    return windows;
  }

  protected encodeState(): Json {
    return {
      sessions: this.timers.toArray().map((s) => {
        const acc = this.aggregate.toJSON(s.acc);
        const e = s.emitted;
        // A session that has not changed since it last fired emitted exactly its value: written
        // once, the emitted pane marked as holding it (SAME_AS_VALUE). With early firings after
        // every batch that is most open sessions, and a checkpoint holds every one of them.
        const emitted =
          e !== null &&
          e.acc !== null &&
          e.start === s.start &&
          e.end === s.end &&
          jsonEqual(this.aggregate.toJSON(e.acc), acc)
            ? { start: e.start, end: e.end, pane: e.pane, acc: null, [SAME_AS_VALUE]: true }
            : this.encodeEmitted(e);
        return {
          key: s.key,
          start: s.start,
          end: s.end,
          fired: s.fired,
          acc,
          changed: this.changed.has(s),
          emitted,
          superseded: s.superseded === null ? null : s.superseded.map((e) => this.encodeEmitted(e)),
        };
      }),
    };
  }

  protected decodeState(json: Json, context: DecodeContext): void {
    this.heads.clear();
    this.timers.clear();
    this.changed.clear();
    const wm = this.currentWatermark;
    asArray(asObject(json, 'state').sessions, 'state.sessions').forEach((entry, i) => {
      const path = `state.sessions[${i}]`;
      const e = asObject(entry, path);
      const start = asNumber(e.start, `${path}.start`);
      const end = asNumber(e.end, `${path}.end`);
      const fired = asBoolean(e.fired, `${path}.fired`);
      // The configured lateness applies to every window, also those that fired under another one:
      // a session already past its cleanup under this lateness is gone, as in a fresh operator.
      if (fired && end - 1 + this.allowedLateness <= wm) return;
      const session = new Session<K, A>(
        decodeKey<K>(e.key, `${path}.key`),
        start,
        end,
        this.aggregate.fromJSON(e.acc ?? null),
        fired,
        fired ? end - 1 + this.allowedLateness : end - 1,
      );
      if (context.version === 1) {
        // Version 1 fired every change of a fired session at once, so it emitted exactly its current value.
        if (fired)
          session.emitted = { start, end, pane: 0, acc: this.retracting ? this.copyAccumulator(session.acc) : null };
        if (e.retracts !== null && e.retracts !== undefined) {
          session.superseded = asArray(e.retracts, `${path}.retracts`).map((w, j) => {
            const bounds = asObject(w, `${path}.retracts[${j}]`);
            return {
              start: asNumber(bounds.start, `${path}.retracts[${j}].start`),
              end: asNumber(bounds.end, `${path}.retracts[${j}].end`),
              pane: 0,
              acc: null,
            };
          });
        }
      } else {
        const emittedJson = e.emitted;
        session.emitted =
          emittedJson !== null &&
          typeof emittedJson === 'object' &&
          !Array.isArray(emittedJson) &&
          emittedJson[SAME_AS_VALUE] === true
            ? {
                ...this.decodeEmitted(emittedJson, `${path}.emitted`)!,
                acc: this.retracting ? this.copyAccumulator(session.acc) : null,
              }
            : this.decodeEmitted(emittedJson, `${path}.emitted`);
        if (e.superseded !== null && e.superseded !== undefined) {
          session.superseded = asArray(e.superseded, `${path}.superseded`).flatMap(
            (w, j) => this.decodeEmitted(w, `${path}.superseded[${j}]`) ?? [],
          );
        }
        if (e.changed === true && !fired) this.changed.add(session);
      }
      this.link(session, path);
      this.timers.push(session);
    });
  }

  private fire(session: Session<K, A>, kind: FiringKind): void {
    session.emitted = this.firePane(
      session.key,
      session.start,
      session.end,
      kind,
      session.acc,
      session.emitted,
      session.superseded,
    );
    session.superseded = null;
    this.changed.delete(session);
    if (this.discarding) session.acc = this.aggregate.create();
    if (kind !== 'early') {
      session.fired = true;
      session.timerAt = session.end - 1 + this.allowedLateness;
    }
  }

  private unlink(session: Session<K, A>): void {
    this.changed.delete(session);
    const head = this.heads.get(session.key);
    if (head === session) {
      if (session.next === null) this.heads.delete(session.key);
      else this.heads.set(session.key, session.next);
      return;
    }
    for (let s = head ?? null; s !== null; s = s.next) {
      if (s.next === session) {
        s.next = session.next;
        return;
      }
    }
  }

  /** Inserts a restored session into its key's list, keeping it sorted and disjoint. */
  private link(session: Session<K, A>, path: string): void {
    let previous: Session<K, A> | null = null;
    let s = this.heads.get(session.key) ?? null;
    while (s !== null && s.start < session.start) {
      previous = s;
      s = s.next;
    }
    if ((previous !== null && previous.end >= session.start) || (s !== null && s.start <= session.end)) {
      throw new SnapshotError(`${path} touches another session of the same key`);
    }
    session.next = s;
    if (previous === null) this.heads.set(session.key, session);
    else previous.next = session;
  }
}

function compareKeys(a: Key, b: Key): number {
  return a === b ? 0 : String(a) < String(b) ? -1 : 1;
}
