// Tumbling and sliding windows by slicing. Time is cut into slices of width gcd(size, slide); every
// window is an exact run of size/gcd slices. An element updates the one slice holding it, and a
// window's result is the merge of its slices, computed once per firing. A naive operator would update
// size/slide windows per element instead (see test-support/naive-sliding-windows.ts, kept as the baseline of the property test and the operators bench).
//
// Only slices are stored. Whether a window exists, has fired or is cleaned up follows from the
// watermark alone, because the watermark never goes back:
// - a window exists iff one of its slices holds an element that it accepted; every element in a
//   slice was accepted by every window of that slice that is not yet cleaned up (a window skips an
//   element only once it is past cleanup, and then it never fires again);
// - windows with end − 1 ≤ wm have fired (on time, or late when their first element came late);
// - a slice is dropped once the last window spanning it is past cleanup.
// Per key there is one timer: the earlier of the next window to fire and the first slice to drop.
//
// What a trigger and the accumulation mode need per *window* (its pane index and what it last
// emitted) is kept only for windows that fired, by window end, until the window is cleaned up; and
// for early firings, which slices changed since the last one.

import type { Aggregate } from './aggregates';
import type { TimeWindows } from './assigners';
import { SnapshotError } from './errors';
import { asArray, asNumber, asObject, type Json } from './json';
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
import { alignedStart, alignedStartAtOrAfter, gcd } from './time';
import { TimerHeap, type Timed } from './timer-heap';
import type { PartitionId } from './watermarks';

interface KeySlices<K, A> extends Timed {
  readonly key: K;
  /**
   * Slice starts, ascending; `accumulators[i]` belongs to `starts[i]` (the arrays change together,
   * so an index valid in one is valid in the other). Never empty while the key is held. Checkpointed.
   */
  starts: number[];
  accumulators: A[];
  /** Last firing of each window that fired and is not cleaned up, by window end: pane index and what to retract. Checkpointed. */
  panes: Map<number, EmittedPane<A>>;
  /** Starts of slices that received an element since the last early firing: which open windows changed. Checkpointed. */
  changed: Set<number>;
}

export class TimeWindowOperator<K extends Key, V, A, R> extends KeyedWindowOperator<K, V, A, R> {
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
  /** Slice width: gcd(size, slide). */
  readonly sliceWidth: number;
  /** Per-key slices. Checkpointed. */
  private readonly keys = new Map<K, KeySlices<K, A>>();
  /** One timer per key. Checkpointed in heap order (ties break the same after a restore). */
  private readonly timers = new TimerHeap<KeySlices<K, A>>();
  /** Keys with a non-empty `changed` set; derived from it on restore. */
  private readonly changedKeys = new Set<KeySlices<K, A>>();

  constructor(assigner: TimeWindows, aggregate: Aggregate<V, A, R>, options: OperatorOptions = {}) {
    super('time-windows', assigner, aggregate, options);
    this.size = assigner.size;
    this.slide = assigner.kind === 'sliding' ? assigner.slide : assigner.size;
    this.offset = assigner.offset;
    this.sliceWidth = gcd(this.size, this.slide);
    // A discarding firing carries what arrived since the window's previous firing; slices are shared
    // by overlapping windows that fire at different times, so that would need state per window.
    if (this.discarding && this.slide !== this.size)
      throw new RangeError('discarding accumulation is supported for tumbling windows, not sliding ones');
  }

  /** Derived by walking every slice (only slices are stored): for monitoring, not per record. */
  get openWindowCount(): number {
    let total = 0;
    for (const state of this.keys.values()) total += this.liveWindowEnds(state).length;
    return total;
  }

  /** Number of slices held across all keys (the state that is actually stored). */
  get sliceCount(): number {
    let total = 0;
    for (const state of this.keys.values()) total += state.starts.length;
    return total;
  }

  protected accept(partition: PartitionId, key: K, ts: number, value: V): void {
    const wm = this.currentWatermark;
    const lateness = this.allowedLateness;
    const sliceStart = alignedStart(ts, this.offset, this.sliceWidth);
    const lastEnd = this.lastEndOf(sliceStart);
    if (lastEnd - 1 + lateness <= wm) {
      // Even the latest window holding this slice is past cleanup: no window will take the element.
      this.emitLate(partition, key, ts, value);
      return;
    }
    let state = this.keys.get(key);
    if (state === undefined) {
      state = {
        key,
        starts: [],
        accumulators: [],
        panes: new Map(),
        changed: new Set(),
        timerAt: Number.POSITIVE_INFINITY,
        heapIndex: -1,
      };
      this.keys.set(key, state);
    }
    const i = this.sliceIndex(state, sliceStart);
    state.accumulators[i] = this.aggregate.add(state.accumulators[i]!, value);
    if (lastEnd - 1 > wm) {
      state.changed.add(sliceStart);
      this.changedKeys.add(state);
    }

    let end = this.firstEndOf(sliceStart);
    if (end - 1 <= wm) {
      // Some windows of this slice already passed their end: those not yet cleaned up fire again now.
      if (end - 1 + lateness <= wm) end += Math.ceil((wm - lateness - end + 2) / this.slide) * this.slide;
      for (; end <= lastEnd && end - 1 <= wm; end += this.slide) this.fireWindow(state, end, 'late');
    }
    const due = end <= lastEnd ? end - 1 : lastEnd - 1 + lateness;
    if (due < state.timerAt) {
      state.timerAt = due;
      this.timers.update(state);
    }
  }

  protected fireTimersUpTo(wm: number): void {
    for (let state = this.timers.peek(); state !== undefined && state.timerAt <= wm; state = this.timers.peek()) {
      const now = state.timerAt;
      if (this.nextEndAfter(state, now - 1) - 1 === now) this.fireWindow(state, now + 1, 'on-time');
      this.dropSlicesCleanedBy(state, now);
      const oldest = state.starts[0];
      if (oldest === undefined) {
        this.timers.remove(state);
        this.keys.delete(state.key);
        this.changedKeys.delete(state);
        continue;
      }
      state.timerAt = Math.min(this.nextEndAfter(state, now) - 1, this.cleanupOf(oldest));
      this.timers.update(state);
    }
  }

  protected fireChangedWindows(): void {
    if (this.changedKeys.size === 0) return;
    const wm = this.currentWatermark;
    const due: { state: KeySlices<K, A>; end: number }[] = [];
    for (const state of this.changedKeys) {
      const ends = new Set<number>();
      for (const start of state.changed) {
        const last = this.lastEndOf(start);
        for (let end = this.firstEndOf(start); end <= last; end += this.slide) if (end - 1 > wm) ends.add(end);
      }
      for (const end of ends) due.push({ state, end });
      state.changed.clear();
    }
    this.changedKeys.clear();
    due.sort(
      (a, b) => a.end - b.end || (a.state.key === b.state.key ? 0 : String(a.state.key) < String(b.state.key) ? -1 : 1),
    );
    for (const { state, end } of due) this.fireWindow(state, end, 'early');
  }

  openWindows(key: K): OpenWindow<R>[] {
    const state = this.keys.get(key);
    if (state === undefined) return [];
    return this.liveWindowEnds(state).map((end) => ({
      start: end - this.size,
      end,
      fired: end - 1 <= this.currentWatermark,
      value: this.windowValue(state, end),
    }));
  }

  protected encodeState(): Json {
    return {
      keys: this.timers.toArray().map((state) => ({
        key: state.key,
        timerAt: state.timerAt,
        slices: state.starts.map((start, i): Json => [start, this.aggregate.toJSON(state.accumulators[i]!)]),
        panes: [...state.panes.values()].map((e) => this.encodeEmitted(e)),
        changed: [...state.changed],
      })),
    };
  }

  protected decodeState(json: Json, context: DecodeContext): void {
    this.keys.clear();
    this.timers.clear();
    this.changedKeys.clear();
    const wm = this.currentWatermark;
    const latenessChanged = context.snapshotLatenessMs !== this.allowedLateness;
    asArray(asObject(json, 'state').keys, 'state.keys').forEach((entry, i) => {
      const path = `state.keys[${i}]`;
      const e = asObject(entry, path);
      const key = decodeKey<K>(e.key, `${path}.key`);
      if (this.keys.has(key)) throw new SnapshotError(`${path}: key ${JSON.stringify(key)} appears twice`);
      const state: KeySlices<K, A> = {
        key,
        starts: [],
        accumulators: [],
        panes: new Map(),
        changed: new Set(),
        timerAt: asNumber(e.timerAt, `${path}.timerAt`),
        heapIndex: -1,
      };
      let previousStart = Number.NEGATIVE_INFINITY;
      for (const [j, slice] of asArray(e.slices, `${path}.slices`).entries()) {
        const pair = asArray(slice, `${path}.slices[${j}]`);
        const start = asNumber(pair[0], `${path}.slices[${j}][0]`);
        if (start <= previousStart) throw new SnapshotError(`${path}.slices must be in ascending order`);
        previousStart = start;
        state.starts.push(start);
        state.accumulators.push(this.aggregate.fromJSON(pair[1] ?? null));
      }
      if (state.starts.length === 0) throw new SnapshotError(`${path} has no slices`);
      if (context.version === 1) {
        // Version 1 fired every change of a fired window at once: each emitted exactly its current value.
        for (const end of this.liveWindowEnds(state)) {
          if (end - 1 <= wm)
            state.panes.set(end, {
              start: end - this.size,
              end,
              pane: 0,
              acc: this.retracting ? this.copyAccumulator(this.windowAcc(state, end)) : null,
            });
        }
      } else {
        for (const [j, pane] of asArray(e.panes ?? [], `${path}.panes`).entries()) {
          const emitted = this.decodeEmitted(pane, `${path}.panes[${j}]`);
          if (emitted !== null) state.panes.set(emitted.end, emitted);
        }
        for (const [j, start] of asArray(e.changed ?? [], `${path}.changed`).entries())
          state.changed.add(asNumber(start, `${path}.changed[${j}]`));
      }
      if (latenessChanged) {
        // The configured lateness applies to every window at once: drop what it has already cleaned
        // up and re-derive the timer, as if the operator had always run with it.
        this.dropSlicesCleanedBy(state, wm);
        const oldest = state.starts[0];
        if (oldest === undefined) return;
        state.timerAt = Math.min(this.nextEndAfter(state, wm) - 1, this.cleanupOf(oldest));
      }
      if (state.changed.size > 0) this.changedKeys.add(state);
      this.keys.set(key, state);
      this.timers.push(state);
    });
  }

  /** End of the latest window that spans the slice starting at `sliceStart`. */
  private lastEndOf(sliceStart: number): number {
    return alignedStart(sliceStart, this.offset, this.slide) + this.size;
  }

  /** End of the earliest window that spans the slice starting at `sliceStart`. */
  private firstEndOf(sliceStart: number): number {
    return alignedStartAtOrAfter(sliceStart + this.sliceWidth - this.size, this.offset, this.slide) + this.size;
  }

  private cleanupOf(sliceStart: number): number {
    return this.lastEndOf(sliceStart) - 1 + this.allowedLateness;
  }

  /** Index of the slice starting at `sliceStart`, creating it in order if missing. */
  private sliceIndex(state: KeySlices<K, A>, sliceStart: number): number {
    const starts = state.starts;
    const n = starts.length;
    // Bounds are checked before each read (an out-of-range read, even one that yields undefined,
    // is a slower path in V8 on this per-element code), hence the `!`s here and below.
    if (n > 0 && starts[n - 1]! === sliceStart) return n - 1;
    if (n === 0 || starts[n - 1]! < sliceStart) {
      starts.push(sliceStart);
      state.accumulators.push(this.aggregate.create());
      return n;
    }
    const i = lowerBound(starts, sliceStart);
    if (starts[i] !== sliceStart) {
      starts.splice(i, 0, sliceStart);
      state.accumulators.splice(i, 0, this.aggregate.create());
    }
    return i;
  }

  /** Earliest end E with E − 1 > `after` of a window that holds at least one slice; +∞ if none. */
  private nextEndAfter(state: KeySlices<K, A>, after: number): number {
    const starts = state.starts;
    const first = starts[0];
    if (first === undefined) return Number.POSITIVE_INFINITY;
    // Windows starting before (first slice + width − size) hold no slice; the max also absorbs −∞.
    const from = Math.max(after + 2 - this.size, first + this.sliceWidth - this.size);
    const windowStart = alignedStartAtOrAfter(from, this.offset, this.slide);
    const end = windowStart + this.size;
    const i = lowerBound(starts, windowStart);
    if (i === starts.length) return Number.POSITIVE_INFINITY;
    const next = starts[i]!;
    return next < end ? end : this.firstEndOf(next);
  }

  private dropSlicesCleanedBy(state: KeySlices<K, A>, wm: number): void {
    let n = 0;
    for (const start of state.starts) {
      if (this.cleanupOf(start) > wm) break;
      n++;
    }
    if (n > 0) {
      for (const start of state.starts.slice(0, n)) state.changed.delete(start);
      state.starts.splice(0, n);
      state.accumulators.splice(0, n);
    }
    for (const end of state.panes.keys()) if (end - 1 + this.allowedLateness <= wm) state.panes.delete(end);
  }

  private fireWindow(state: KeySlices<K, A>, end: number, kind: FiringKind): void {
    const acc = this.windowAcc(state, end);
    state.panes.set(end, this.firePane(state.key, end - this.size, end, kind, acc, state.panes.get(end) ?? null));
    if (this.discarding) {
      // Tumbling only (checked in the constructor): the window is exactly one slice.
      state.accumulators[lowerBound(state.starts, end - this.size)] = this.aggregate.create();
    }
  }

  private windowValue(state: KeySlices<K, A>, end: number): R {
    return this.aggregate.result(this.windowAcc(state, end));
  }

  /** Merges the slices of window [end − size, end), of which there is at least one (a single slice is returned as is, not copied). */
  private windowAcc(state: KeySlices<K, A>, end: number): A {
    const starts = state.starts;
    const accumulators = state.accumulators;
    // `i` is the window's first slice (there is one), so it and every index below length are in bounds.
    let i = lowerBound(starts, end - this.size);
    if (i + 1 >= starts.length || starts[i + 1]! >= end) return accumulators[i]!;
    let acc = this.aggregate.create();
    for (; i < starts.length && starts[i]! < end; i++) acc = this.aggregate.merge(acc, accumulators[i]!);
    return acc;
  }

  /** Ends of the windows holding state: spanning a slice and not yet cleaned up. */
  private liveWindowEnds(state: KeySlices<K, A>): number[] {
    const ends = new Set<number>();
    const oldestLive = this.currentWatermark - this.allowedLateness + 2; // end − 1 + L > wm
    for (const start of state.starts) {
      const last = this.lastEndOf(start);
      for (let end = this.firstEndOf(start); end <= last; end += this.slide) if (end >= oldestLive) ends.add(end);
    }
    return [...ends].sort((a, b) => a - b);
  }
}

/** First index whose value is ≥ `target` in an ascending array. */
function lowerBound(values: number[], target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < target)
      lo = mid + 1; // lo ≤ mid < hi ≤ length
    else hi = mid;
  }
  return lo;
}
