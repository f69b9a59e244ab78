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
// sink stored, so the session remembers the bounds it emitted and reports them as retractions with
// its next firing (which always comes: a merged session is either due now or has a timer).

import type { Aggregate } from './aggregates';
import type { SessionWindows, WindowBounds } from './assigners';
import { SnapshotError } from './errors';
import { asArray, asBoolean, asNumber, asObject, type Json } from './json';
import { decodeKey, KeyedWindowOperator, type Key, type OpenWindow, type OperatorOptions } from './operator';
import { TimerHeap, type Timed } from './timer-heap';
import type { PartitionId } from './watermarks';

class Session<K, A> implements Timed {
  heapIndex = -1;
  /** Next session of the same key (by start), or null. */
  next: Session<K, A> | null = null;
  /** Bounds emitted earlier that this session has replaced and the sink still holds; null when none. */
  retracts: WindowBounds[] | null = null;

  constructor(
    readonly key: K,
    public start: number,
    public end: number,
    public acc: A,
    /** Whether a result for the current bounds was emitted; then the timer is cleanup, else the firing. */
    public fired: boolean,
    public timerAt: number,
  ) {}
}

export class SessionWindowOperator<K extends Key, V, A, R> extends KeyedWindowOperator<K, V, A, R> {
  readonly gap: number;
  /** First (earliest) session of each key. */
  private readonly heads = new Map<K, Session<K, A>>();
  private readonly timers = new TimerHeap<Session<K, A>>();

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
      const fired = newEnd - 1 <= wm;
      const created = new Session<K, A>(key, ts, newEnd, this.aggregate.add(this.aggregate.create(), value), fired, fired ? newEnd - 1 + lateness : newEnd - 1);
      created.next = session;
      if (previous === null) this.heads.set(key, created);
      else previous.next = created;
      this.timers.push(created);
      if (fired) this.emitResult(key, ts, newEnd, 'late-firing', this.aggregate.result(created.acc));
      return;
    }

    // Merge the element's window with `session` and with every following session it now reaches.
    const target = session;
    const start = ts < target.start ? ts : target.start;
    let end = newEnd > target.end ? newEnd : target.end;
    let absorbed = target.next;
    let retracts = target.retracts;
    while (absorbed !== null && absorbed.start <= end) {
      if (absorbed.end > end) end = absorbed.end;
      target.acc = this.aggregate.merge(target.acc, absorbed.acc);
      if (absorbed.fired || absorbed.retracts !== null) {
        retracts ??= [];
        if (absorbed.retracts !== null) retracts.push(...absorbed.retracts);
        if (absorbed.fired) retracts.push({ start: absorbed.start, end: absorbed.end });
      }
      this.timers.remove(absorbed);
      absorbed = absorbed.next;
    }
    target.next = absorbed;
    if (start !== target.start || end !== target.end) {
      if (target.fired) (retracts ??= []).push({ start: target.start, end: target.end });
      target.fired = false;
      target.start = start;
      target.end = end;
    }
    target.retracts = retracts;
    target.acc = this.aggregate.add(target.acc, value);

    if (end - 1 <= wm) {
      this.fire(target, 'late-firing');
    } else {
      target.timerAt = end - 1;
    }
    this.timers.update(target);
  }

  protected fireTimersUpTo(wm: number): void {
    for (let session = this.timers.peek(); session !== undefined && session.timerAt <= wm; session = this.timers.peek()) {
      if (!session.fired) {
        this.fire(session, 'on-time');
        this.timers.update(session);
      } else {
        this.timers.remove(session);
        this.unlink(session);
      }
    }
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
      sessions: this.timers.toArray().map((s) => ({
        key: s.key,
        start: s.start,
        end: s.end,
        fired: s.fired,
        timerAt: s.timerAt,
        acc: this.aggregate.toJSON(s.acc),
        retracts: s.retracts === null ? null : s.retracts.map((w) => ({ start: w.start, end: w.end })),
      })),
    };
  }

  protected decodeState(json: Json): void {
    this.heads.clear();
    this.timers.clear();
    asArray(asObject(json, 'state').sessions, 'state.sessions').forEach((entry, i) => {
      const path = `state.sessions[${i}]`;
      const e = asObject(entry, path);
      const session = new Session<K, A>(
        decodeKey<K>(e.key, `${path}.key`),
        asNumber(e.start, `${path}.start`),
        asNumber(e.end, `${path}.end`),
        this.aggregate.fromJSON(e.acc ?? null),
        asBoolean(e.fired, `${path}.fired`),
        asNumber(e.timerAt, `${path}.timerAt`),
      );
      if (e.retracts !== null && e.retracts !== undefined) {
        session.retracts = asArray(e.retracts, `${path}.retracts`).map((w, j) => {
          const bounds = asObject(w, `${path}.retracts[${j}]`);
          return { start: asNumber(bounds.start, `${path}.retracts[${j}].start`), end: asNumber(bounds.end, `${path}.retracts[${j}].end`) };
        });
      }
      this.link(session, path);
      this.timers.push(session);
    });
  }

  private fire(session: Session<K, A>, kind: 'on-time' | 'late-firing'): void {
    const retracts = session.retracts === null ? undefined : session.retracts.sort((a, b) => a.start - b.start);
    session.retracts = null;
    session.fired = true;
    session.timerAt = session.end - 1 + this.allowedLateness;
    this.emitResult(session.key, session.start, session.end, kind, this.aggregate.result(session.acc), retracts);
  }

  private unlink(session: Session<K, A>): void {
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
