// The naive way to run sliding windows, kept only as the baseline for tests and the benchmark:
// every element updates each of the size/slide windows it belongs to, and every window has its own
// accumulator and timer, as in Flink's WindowOperator. Same semantics as TimeWindowOperator, which
// the property tests check; not exported from index.ts.

import type { Aggregate } from '../aggregates';
import type { TimeWindows } from '../assigners';
import { SnapshotError } from '../errors';
import { asArray, asBoolean, asNumber, asObject, type Json } from '../json';
import {
  decodeKey,
  KeyedWindowOperator,
  type EmittedPane,
  type Key,
  type OpenWindow,
  type OperatorOptions,
} from '../operator';
import { alignedStart } from '../time';
import { TimerHeap, type Timed } from '../timer-heap';
import type { PartitionId } from '../watermarks';

class NaiveWindow<K, A> implements Timed {
  heapIndex = -1;
  /** Last firing, for the pane index (the baseline supports the default trigger and accumulation only). */
  emitted: EmittedPane<A> | null = null;
  constructor(
    readonly key: K,
    readonly start: number,
    public acc: A,
    public fired: boolean,
    public timerAt: number,
  ) {}
}

export class NaiveSlidingWindowOperator<K extends Key, V, A, R> extends KeyedWindowOperator<K, V, A, R> {
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
  private readonly windows = new Map<K, Map<number, NaiveWindow<K, A>>>();
  private readonly timers = new TimerHeap<NaiveWindow<K, A>>();

  constructor(assigner: TimeWindows, aggregate: Aggregate<V, A, R>, options: OperatorOptions = {}) {
    super('naive-sliding-windows', assigner, aggregate, options);
    this.size = assigner.size;
    this.slide = assigner.kind === 'sliding' ? assigner.slide : assigner.size;
    this.offset = assigner.offset;
    if (this.trigger.early !== null || this.accumulation !== 'accumulating')
      throw new RangeError('the naive baseline supports only the on-time trigger and accumulating mode');
  }

  get openWindowCount(): number {
    return this.timers.size;
  }

  protected accept(partition: PartitionId, key: K, ts: number, value: V): void {
    const wm = this.currentWatermark;
    const lateness = this.allowedLateness;
    let byStart = this.windows.get(key);
    let accepted = false;
    for (let start = alignedStart(ts, this.offset, this.slide); start > ts - this.size; start -= this.slide) {
      const end = start + this.size;
      if (end - 1 + lateness <= wm) continue;
      accepted = true;
      if (byStart === undefined) {
        byStart = new Map();
        this.windows.set(key, byStart);
      }
      let window = byStart.get(start);
      if (window === undefined) {
        window = new NaiveWindow<K, A>(key, start, this.aggregate.create(), false, end - 1);
        byStart.set(start, window);
        this.timers.push(window);
      }
      window.acc = this.aggregate.add(window.acc, value);
      if (end - 1 <= wm) {
        window.emitted = this.firePane(key, start, end, 'late', window.acc, window.emitted);
        if (!window.fired) {
          window.fired = true;
          window.timerAt = end - 1 + lateness;
          this.timers.update(window);
        }
      }
    }
    if (!accepted) this.emitLate(partition, key, ts, value);
  }

  protected fireTimersUpTo(wm: number): void {
    for (let window = this.timers.peek(); window !== undefined && window.timerAt <= wm; window = this.timers.peek()) {
      const end = window.start + this.size;
      if (!window.fired) {
        window.emitted = this.firePane(window.key, window.start, end, 'on-time', window.acc, window.emitted);
        window.fired = true;
        window.timerAt = end - 1 + this.allowedLateness;
        this.timers.update(window);
      } else {
        this.timers.remove(window);
        const byStart = this.windows.get(window.key);
        byStart?.delete(window.start);
        if (byStart !== undefined && byStart.size === 0) this.windows.delete(window.key);
      }
    }
  }

  protected fireChangedWindows(): void {
    throw new Error('the naive baseline has no early firings');
  }

  openWindows(key: K): OpenWindow<R>[] {
    const byStart = this.windows.get(key);
    if (byStart === undefined) return [];
    return [...byStart.values()]
      .sort((a, b) => a.start - b.start)
      .map((w) => ({ start: w.start, end: w.start + this.size, fired: w.fired, value: this.aggregate.result(w.acc) }));
  }

  protected encodeState(): Json {
    return {
      windows: this.timers.toArray().map((w) => ({
        key: w.key,
        start: w.start,
        fired: w.fired,
        timerAt: w.timerAt,
        acc: this.aggregate.toJSON(w.acc),
        emitted: this.encodeEmitted(w.emitted),
      })),
    };
  }

  protected decodeState(json: Json): void {
    this.windows.clear();
    this.timers.clear();
    asArray(asObject(json, 'state').windows, 'state.windows').forEach((entry, i) => {
      const path = `state.windows[${i}]`;
      const e = asObject(entry, path);
      const key = decodeKey<K>(e.key, `${path}.key`);
      const start = asNumber(e.start, `${path}.start`);
      const window = new NaiveWindow<K, A>(
        key,
        start,
        this.aggregate.fromJSON(e.acc ?? null),
        asBoolean(e.fired, `${path}.fired`),
        asNumber(e.timerAt, `${path}.timerAt`),
      );
      let byStart = this.windows.get(key);
      if (byStart === undefined) this.windows.set(key, (byStart = new Map()));
      if (byStart.has(start)) throw new SnapshotError(`${path}: window appears twice`);
      window.emitted = this.decodeEmitted(e.emitted, `${path}.emitted`);
      byStart.set(start, window);
      this.timers.push(window);
    });
  }
}
