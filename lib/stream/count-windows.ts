// Count windows with a timeout: per key, elements fill one open window in arrival order; it closes
// when it holds `count` elements, or when the watermark passes `timeout` after its first element's
// timestamp (the count may never be reached: a funnel a visitor abandons).
//
// Bounds are [first timestamp, first timestamp + timeout), so a timed-out window fires exactly like
// a time window ending there. Count windows purge when they fire, so each fires once, always
// 'on-time'; allowed lateness only decides whether a late element may still open a new window.
//
// `extend(key, end)` moves an open window's end later: its timer is then the caller's, measured
// from activity the window does not count (a funnel attempt that lasts as long as the visit, whose
// pageviews are not steps). The end is checkpointed per window; a snapshot written before it
// existed restores with the end its timeout gave.

import type { Aggregate } from './aggregates';
import type { CountWindows } from './assigners';
import { SnapshotError } from './errors';
import { asArray, asNumber, asObject, type Json } from './json';
import {
  decodeKey,
  KeyedWindowOperator,
  type DecodeContext,
  type EmittedPane,
  type Key,
  type OpenWindow,
  type OperatorOptions,
} from './operator';
import { TimerHeap, type Timed } from './timer-heap';
import type { PartitionId } from './watermarks';

class CountWindow<K, A> implements Timed {
  heapIndex = -1;
  /** Its last early firing (pane index, what to retract); null before. Checkpointed. */
  emitted: EmittedPane<A> | null = null;
  constructor(
    readonly key: K,
    readonly start: number,
    public size: number,
    public acc: A,
    /** Exclusive end: start + timeout, or later once extended. Checkpointed. */
    public end: number,
    /** Firing time: end − 1. */
    public timerAt: number = end - 1,
  ) {}
}

export class CountWindowOperator<K extends Key, V, A, R> extends KeyedWindowOperator<K, V, A, R> {
  readonly count: number;
  readonly timeout: number;
  /** The open window of each key. Checkpointed. */
  private readonly open = new Map<K, CountWindow<K, A>>();
  private readonly timers = new TimerHeap<CountWindow<K, A>>();
  /** Open windows that received an element since their last (early) firing. Checkpointed (a flag per window). */
  private readonly changed = new Set<CountWindow<K, A>>();

  constructor(assigner: CountWindows, aggregate: Aggregate<V, A, R>, options: OperatorOptions = {}) {
    super('count-windows', assigner, aggregate, options);
    this.count = assigner.count;
    this.timeout = assigner.timeout;
  }

  get openWindowCount(): number {
    return this.open.size;
  }

  protected accept(partition: PartitionId, key: K, ts: number, value: V): void {
    let window = this.open.get(key);
    if (window === undefined) {
      const end = ts + this.timeout;
      if (end - 1 + this.allowedLateness <= this.currentWatermark) {
        this.emitLate(partition, key, ts, value);
        return;
      }
      // If the timeout is already behind the watermark (late, within lateness) the window still
      // collects this batch's elements and fires at the next watermark advance.
      window = new CountWindow<K, A>(key, ts, 0, this.aggregate.create(), end);
      this.open.set(key, window);
      this.timers.push(window);
    }
    window.acc = this.aggregate.add(window.acc, value);
    window.size++;
    if (window.size >= this.count) this.close(window);
    else this.changed.add(window);
  }

  protected fireChangedWindows(): void {
    const wm = this.currentWatermark;
    const due = [...this.changed].filter((w) => w.timerAt > wm);
    due.sort((a, b) => a.timerAt - b.timerAt || (a.key === b.key ? 0 : String(a.key) < String(b.key) ? -1 : 1));
    for (const w of due) {
      w.emitted = this.firePane(w.key, w.start, w.end, 'early', w.acc, w.emitted);
      if (this.discarding) w.acc = this.aggregate.create();
    }
    this.changed.clear();
  }

  protected fireTimersUpTo(wm: number): void {
    for (let window = this.timers.peek(); window !== undefined && window.timerAt <= wm; window = this.timers.peek()) {
      this.close(window);
    }
  }

  openWindows(key: K): OpenWindow<R>[] {
    const window = this.open.get(key);
    if (window === undefined) return [];
    return [{ start: window.start, end: window.end, fired: false, value: this.aggregate.result(window.acc) }];
  }

  /** Every open window (any key) with its element count, in timer order. */
  openWindowsOfAllKeys(): { key: K; start: number; end: number; size: number }[] {
    return this.timers.toArray().map((w) => ({ key: w.key, start: w.start, end: w.end, size: w.size }));
  }

  /**
   * Keeps the open window of `key` open until `end` (exclusive) in event time, never shortening it;
   * no open window: nothing. A window already due stays due until the next watermark advance fires
   * it, unless this moves its end past the watermark.
   */
  extend(key: K, end: number): void {
    const window = this.open.get(key);
    if (window === undefined || end <= window.end) return;
    window.end = end;
    window.timerAt = end - 1;
    this.timers.update(window);
  }

  protected encodeState(): Json {
    return {
      windows: this.timers.toArray().map((w) => ({
        key: w.key,
        start: w.start,
        end: w.end,
        size: w.size,
        acc: this.aggregate.toJSON(w.acc),
        changed: this.changed.has(w),
        emitted: this.encodeEmitted(w.emitted),
      })),
    };
  }

  protected decodeState(json: Json, _context: DecodeContext): void {
    this.open.clear();
    this.timers.clear();
    this.changed.clear();
    asArray(asObject(json, 'state').windows, 'state.windows').forEach((entry, i) => {
      const path = `state.windows[${i}]`;
      const e = asObject(entry, path);
      const key = decodeKey<K>(e.key, `${path}.key`);
      if (this.open.has(key)) throw new SnapshotError(`${path}: key ${JSON.stringify(key)} has two open windows`);
      const start = asNumber(e.start, `${path}.start`);
      // Snapshots from before `extend` have no end: their windows ended at the timeout.
      const end = e.end === undefined ? start + this.timeout : asNumber(e.end, `${path}.end`);
      const window = new CountWindow<K, A>(
        key,
        start,
        asNumber(e.size, `${path}.size`),
        this.aggregate.fromJSON(e.acc ?? null),
        end,
      );
      window.emitted = this.decodeEmitted(e.emitted, `${path}.emitted`);
      if (e.changed === true) this.changed.add(window);
      this.open.set(key, window);
      this.timers.push(window);
    });
  }

  private close(window: CountWindow<K, A>): void {
    this.timers.remove(window);
    this.open.delete(window.key);
    this.changed.delete(window);
    this.firePane(window.key, window.start, window.end, 'on-time', window.acc, window.emitted);
  }
}
