// What every keyed window operator shares: the contract a worker drives, the watermark bookkeeping,
// the outbox of results and late elements, and the versioned snapshot envelope. The window logic
// itself (time slices, sessions, counts) lives in the subclasses.

import type { Aggregate } from './aggregates';
import { describeAssigner, sameAssigner, type WindowAssigner, type WindowBounds } from './assigners';
import { SnapshotError } from './errors';
import { asNumber, asObject, type Json } from './json';
import { assertTimestamp, decodeTime, encodeTime, NO_WATERMARK, type EncodedTime } from './time';
import {
  PartitionWatermarks,
  type Clock,
  type PartitionId,
  type PartitionStatus,
  type PartitionWatermarksSnapshot,
} from './watermarks';

export type Key = string | number;

/**
 * `early`: a speculative result before the watermark reached the window's end (the trigger asked).
 * `on-time`: the watermark passed the window's end (exactly once per window).
 * `late`: an update caused by an element that arrived after that, within allowed lateness.
 */
export type FiringKind = 'early' | 'on-time' | 'late';

/**
 * How the firings of one window relate (the Dataflow model's "how"):
 * - `discarding`: each firing carries only what arrived since the window's previous firing;
 * - `accumulating`: each firing carries the whole window so far (a sink upserts);
 * - `accumulating-and-retracting`: as accumulating, and each firing also lists the values it
 *   replaces (`retractions`), including those of windows that merging made disappear, so a sink
 *   that keeps sums subtracts them and adds the new value in one transaction.
 */
export type AccumulationMode = 'discarding' | 'accumulating' | 'accumulating-and-retracting';

/**
 * When windows emit (Flink's Trigger; the assigner only says which windows exist). Every trigger
 * fires on time and late; `early` adds speculative firings of the windows that changed since their
 * last firing and are not due yet.
 */
export interface Trigger {
  readonly early: {
    /** Fire early at the end of every `advanceWatermark()`, i.e. once per consumed batch. */
    readonly everyBatch: boolean;
    /** Fire early at most once per this much processing time (read from the clock at `advanceWatermark()`); null: never by time. */
    readonly intervalMs: number | null;
  } | null;
}

/** The default trigger: on time, then late firings (Flink's EventTimeTrigger). */
export function onTimeTrigger(): Trigger {
  return { early: null };
}

/** Speculative firings for changed windows after every batch and/or every `intervalMs` of processing time, then on time and late. */
export function earlyFiringTrigger(options: { everyBatch?: boolean; intervalMs?: number }): Trigger {
  const everyBatch = options.everyBatch ?? false;
  const intervalMs = options.intervalMs ?? null;
  if (intervalMs !== null && (!Number.isSafeInteger(intervalMs) || intervalMs <= 0))
    throw new RangeError(`early firing interval must be a positive integer, got ${intervalMs}`);
  if (!everyBatch && intervalMs === null)
    throw new RangeError('an early-firing trigger needs everyBatch or intervalMs');
  return { early: { everyBatch, intervalMs } };
}

/** A value emitted earlier that a firing replaces (accumulating-and-retracting mode only). */
export interface Retraction<R> {
  readonly windowStart: number;
  readonly windowEnd: number;
  /** The pane index of the firing that emitted it. */
  readonly pane: number;
  readonly value: R;
}

/**
 * What a window last emitted: its bounds then, its pane index and, in accumulating-and-retracting
 * mode, a copy of the accumulator it carried (null otherwise, or when a legacy checkpoint did not
 * record it). Part of the window's checkpointed state, so a restored operator retracts exactly what
 * the sink committed with the same checkpoint.
 */
export interface EmittedPane<A> {
  readonly start: number;
  readonly end: number;
  readonly pane: number;
  readonly acc: A | null;
}

/** One firing of one window. Sinks upsert by `(key, windowStart, windowEnd)`. */
export interface WindowResult<K extends Key, R> {
  readonly key: K;
  readonly windowStart: number;
  readonly windowEnd: number;
  /** `windowEnd − 1`: the last instant the window covers. */
  readonly timestamp: number;
  readonly kind: FiringKind;
  /** Beam's pane index: 0 for the window's first firing, then +1 per firing (a merged window continues after the highest of its parts). */
  readonly pane: number;
  /** The whole window so far, or (discarding mode) only what arrived since its previous firing. */
  readonly value: R;
  /**
   * Bounds of windows of this key emitted earlier, other than these bounds, that this result
   * replaces (sessions that merged or grew after they fired). An upsert sink deletes those rows in
   * the same transaction. Always empty for tumbling, sliding and count windows.
   */
  readonly retracts: readonly WindowBounds[];
  /**
   * Accumulating-and-retracting mode: every value this result replaces — the window's own previous
   * firing and those of the windows merged into it — sorted by start. Empty in the other modes.
   */
  readonly retractions: readonly Retraction<R>[];
}

/** An element that arrived after every window it belongs to was cleaned up. Nothing is dropped silently. */
export interface LateElement<K extends Key, V> {
  readonly partition: PartitionId;
  readonly key: K;
  readonly timestamp: number;
  readonly value: V;
  /** The operator's watermark when the element arrived, for reconciliation. */
  readonly watermark: number;
}

/** Everything produced since the previous emission, in the order it happened. */
export interface Emission<K extends Key, V, R> {
  /** Late firings in arrival order, then on-time firings in timestamp order. */
  readonly results: WindowResult<K, R>[];
  readonly late: LateElement<K, V>[];
  /** The watermark after these results: forward it downstream (and store it) only after them. */
  readonly watermark: number;
}

export interface OpenWindow<R> {
  readonly start: number;
  readonly end: number;
  /** Whether a result for exactly these bounds has been emitted (the window may still get late firings). */
  readonly fired: boolean;
  readonly value: R;
}

export interface OperatorOptions {
  /** L: how long after a window's end it keeps its state and accepts late elements. Default 0. */
  allowedLatenessMs?: number;
  /** B: bounded out-of-orderness of each partition's watermark generator. Default 0. */
  outOfOrdernessMs?: number;
  /** Processing time after which a silent partition stops holding the watermark back. Needs `clock`. */
  idleTimeoutMs?: number;
  /** Processing-time clock in ms, read once per `advanceWatermark()`. Use wall-clock epoch ms in workers. */
  clock?: Clock;
  /** Side input whose version is recorded in every snapshot. */
  dimensions?: { readonly version: number };
  /** When windows fire. Default: `onTimeTrigger()`. */
  trigger?: Trigger;
  /** How a window's firings relate. Default: `accumulating`. */
  accumulation?: AccumulationMode;
}

export type OperatorName = 'time-windows' | 'session-windows' | 'count-windows' | 'naive-sliding-windows';

/**
 * 2: windows record what they last emitted (`emitted`, `superseded`), which windows changed since
 * (`changed`), the accumulation mode and the last early firing. Version 1 snapshots still restore:
 * their fired windows are taken to have emitted exactly their current value (true in version 1,
 * which fired every change at once after the on-time firing), and nothing else as emitted.
 */
export const SNAPSHOT_VERSION = 2;

/** The checkpoint/savepoint form of an operator: plain JSON, versioned, owned by this library. */
export type OperatorSnapshot = {
  version: typeof SNAPSHOT_VERSION;
  operator: OperatorName;
  assigner: AssignerJson;
  allowedLatenessMs: number;
  accumulation: AccumulationMode;
  /** Processing time of the last early firing by interval; null before the first. */
  lastEarlyFiringAt: number | null;
  watermark: EncodedTime;
  partitions: PartitionWatermarksSnapshot;
  /** Version of the dimension snapshot the operator enriched with; null without side input. */
  dimensionVersion: number | null;
  /** Per-key window state, timers and accumulators, in the form the operator named above defines. */
  state: Json;
};

export type AssignerJson =
  | { kind: 'tumbling'; size: number; offset: number }
  | { kind: 'sliding'; size: number; slide: number; offset: number }
  | { kind: 'session'; gap: number }
  | { kind: 'count'; count: number; timeout: number };

export interface WindowOperator<K extends Key, V, R> {
  /** The operator's current watermark (−∞ before the first advance). */
  readonly watermark: number;
  /** Number of windows holding state (open or fired but not yet cleaned up). */
  readonly openWindowCount: number;
  /**
   * Feeds one element. Late firings and late elements it causes are queued and come back from the
   * next `advanceWatermark()` / `drain()`; nothing is called back.
   */
  process(partition: PartitionId, key: K, timestamp: number, value: V): void;
  /**
   * Periodic emit, e.g. once per consumed batch: updates partition idleness with the injected clock,
   * takes the minimum watermark over non-idle partitions, fires every due window in timestamp order,
   * cleans up expired state, and returns everything queued.
   */
  advanceWatermark(): Emission<K, V, R>;
  /** Advances to an externally supplied watermark (never backwards). Same firing rules. */
  advanceWatermarkTo(watermark: number): Emission<K, V, R>;
  /** Returns and clears queued output without moving the watermark. */
  drain(): Emission<K, V, R>;
  /**
   * Fires early every window that changed since its last firing and is not due yet (whatever the
   * trigger; the trigger only decides whether `advanceWatermark()` does it by itself), then drains.
   */
  fireEarly(): Emission<K, V, R>;
  addPartition(partition: PartitionId): void;
  removePartition(partition: PartitionId): void;
  partitionStatus(): PartitionStatus[];
  /** Windows of one key that currently hold state, oldest first. */
  openWindows(key: K): OpenWindow<R>[];
  /** All operator state as versioned JSON. Call after draining, so no output is lost with it. */
  snapshot(): OperatorSnapshot;
  /** Replaces all state with a snapshot taken from an operator with the same windows. */
  restore(snapshot: OperatorSnapshot | Json): void;
}

const NO_RETRACTS: readonly WindowBounds[] = Object.freeze([]);
const NO_RETRACTIONS: readonly Retraction<never>[] = Object.freeze([]);
const ACCUMULATION_MODES: readonly AccumulationMode[] = ['discarding', 'accumulating', 'accumulating-and-retracting'];

/** The snapshot format version a state decoder reads, and what it needs to rebuild derived state. */
export interface DecodeContext {
  readonly version: 1 | 2;
  /** Allowed lateness of the operator that took the snapshot: timers derived from it must be recomputed when it differs. */
  readonly snapshotLatenessMs: number;
}

function assignerJson(assigner: WindowAssigner): AssignerJson {
  switch (assigner.kind) {
    case 'tumbling':
      return { kind: 'tumbling', size: assigner.size, offset: assigner.offset };
    case 'sliding':
      return { kind: 'sliding', size: assigner.size, slide: assigner.slide, offset: assigner.offset };
    case 'session':
      return { kind: 'session', gap: assigner.gap };
    case 'count':
      return { kind: 'count', count: assigner.count, timeout: assigner.timeout };
  }
}

function parseAssigner(json: Json | undefined): WindowAssigner {
  const a = asObject(json, 'assigner');
  const n = (field: string): number => {
    const v = a[field];
    if (typeof v !== 'number') throw new SnapshotError(`assigner.${field} must be a number`);
    return v;
  };
  switch (a.kind) {
    case 'tumbling':
      return { kind: 'tumbling', size: n('size'), offset: n('offset') };
    case 'sliding':
      return { kind: 'sliding', size: n('size'), slide: n('slide'), offset: n('offset') };
    case 'session':
      return { kind: 'session', gap: n('gap') };
    case 'count':
      return { kind: 'count', count: n('count'), timeout: n('timeout') };
    default:
      throw new SnapshotError(`unknown assigner kind ${JSON.stringify(a.kind)}`);
  }
}

export abstract class KeyedWindowOperator<K extends Key, V, A, R> implements WindowOperator<K, V, R> {
  /** The operator's event-time clock; checkpointed. Never goes back. */
  protected currentWatermark = NO_WATERMARK;
  /** Configuration, not state: a restored operator applies its own (configured) lateness to every window. */
  protected readonly allowedLateness: number;
  protected readonly trigger: Trigger;
  protected readonly accumulation: AccumulationMode;
  /** Processing time of the last interval early firing: paces the interval trigger; checkpointed (use a wall clock). */
  private lastEarlyFiringAt: number | null = null;
  private readonly partitions: PartitionWatermarks;
  private readonly clock: Clock | undefined;
  private readonly dimensions: { readonly version: number } | undefined;
  private results: WindowResult<K, R>[] = [];
  private lateElements: LateElement<K, V>[] = [];

  protected constructor(
    protected readonly operatorName: OperatorName,
    readonly assigner: WindowAssigner,
    protected readonly aggregate: Aggregate<V, A, R>,
    options: OperatorOptions,
  ) {
    this.allowedLateness = options.allowedLatenessMs ?? 0;
    if (!Number.isSafeInteger(this.allowedLateness) || this.allowedLateness < 0) {
      throw new RangeError(`allowedLatenessMs must be a non-negative integer, got ${this.allowedLateness}`);
    }
    if (options.idleTimeoutMs !== undefined && options.clock === undefined) {
      throw new RangeError('idleTimeoutMs needs a processing-time clock (options.clock)');
    }
    this.partitions = new PartitionWatermarks({
      outOfOrdernessMs: options.outOfOrdernessMs,
      idleTimeoutMs: options.idleTimeoutMs,
    });
    this.clock = options.clock;
    this.dimensions = options.dimensions;
    this.trigger = options.trigger ?? onTimeTrigger();
    this.accumulation = options.accumulation ?? 'accumulating';
    if (this.trigger.early?.intervalMs != null && options.clock === undefined) {
      throw new RangeError('an early-firing interval needs a processing-time clock (options.clock)');
    }
  }

  get watermark(): number {
    return this.currentWatermark;
  }

  abstract get openWindowCount(): number;

  process(partition: PartitionId, key: K, timestamp: number, value: V): void {
    assertTimestamp(timestamp);
    this.partitions.onEvent(partition, timestamp);
    this.accept(partition, key, timestamp, value);
  }

  advanceWatermark(): Emission<K, V, R> {
    const now = this.clock === undefined ? 0 : this.clock();
    this.moveWatermarkTo(this.partitions.emit(now));
    const early = this.trigger.early;
    if (early !== null) {
      const byInterval =
        early.intervalMs !== null &&
        (this.lastEarlyFiringAt === null || now - this.lastEarlyFiringAt >= early.intervalMs);
      if (byInterval) this.lastEarlyFiringAt = now;
      // After the on-time firings: a window due now fires on time, never early.
      if (early.everyBatch || byInterval) this.fireChangedWindows();
    }
    return this.drain();
  }

  advanceWatermarkTo(watermark: number): Emission<K, V, R> {
    this.moveWatermarkTo(watermark);
    return this.drain();
  }

  fireEarly(): Emission<K, V, R> {
    this.fireChangedWindows();
    return this.drain();
  }

  private moveWatermarkTo(watermark: number): void {
    if (Number.isNaN(watermark)) throw new RangeError('watermark must be a number');
    const target = watermark > this.currentWatermark ? watermark : this.currentWatermark;
    this.fireTimersUpTo(target);
    this.currentWatermark = target;
  }

  drain(): Emission<K, V, R> {
    const emission = { results: this.results, late: this.lateElements, watermark: this.currentWatermark };
    this.results = [];
    this.lateElements = [];
    return emission;
  }

  addPartition(partition: PartitionId): void {
    this.partitions.addPartition(partition);
  }

  removePartition(partition: PartitionId): void {
    this.partitions.removePartition(partition);
  }

  partitionStatus(): PartitionStatus[] {
    return this.partitions.status();
  }

  abstract openWindows(key: K): OpenWindow<R>[];

  snapshot(): OperatorSnapshot {
    if (this.results.length > 0 || this.lateElements.length > 0) {
      // Queued output is not part of the state: snapshotting now would lose it on restore.
      throw new Error(
        'snapshot() with undrained output: call drain() or advanceWatermark() first and persist what it returns',
      );
    }
    return {
      version: SNAPSHOT_VERSION,
      operator: this.operatorName,
      assigner: assignerJson(this.assigner),
      allowedLatenessMs: this.allowedLateness,
      accumulation: this.accumulation,
      lastEarlyFiringAt: this.lastEarlyFiringAt,
      watermark: encodeTime(this.currentWatermark),
      partitions: this.partitions.snapshot(),
      dimensionVersion: this.dimensions === undefined ? null : this.dimensions.version,
      state: this.encodeState(),
    };
  }

  restore(snapshot: OperatorSnapshot | Json): void {
    const root = asObject(snapshot as Json, 'snapshot');
    const version = root.version;
    if (version !== 1 && version !== 2)
      throw new SnapshotError(`unsupported snapshot version ${JSON.stringify(version)}`);
    if (root.operator !== this.operatorName)
      throw new SnapshotError(`snapshot of ${JSON.stringify(root.operator)} cannot restore ${this.operatorName}`);
    const assigner = parseAssigner(root.assigner);
    if (!sameAssigner(assigner, this.assigner)) {
      throw new SnapshotError(
        `snapshot windows ${describeAssigner(assigner)} differ from ${describeAssigner(this.assigner)}`,
      );
    }
    // Allowed lateness, out-of-orderness, trigger and accumulation may change across an upgrade; the
    // windows may not. A snapshot taken in another accumulation mode carries no accumulators of what
    // was emitted; those windows then count as having emitted nothing that can be retracted.
    if (version === 2 && !ACCUMULATION_MODES.includes(root.accumulation as AccumulationMode)) {
      throw new SnapshotError(`unknown accumulation mode ${JSON.stringify(root.accumulation)}`);
    }
    const snapshotLatenessMs =
      typeof root.allowedLatenessMs === 'number' ? root.allowedLatenessMs : this.allowedLateness;
    this.partitions.restore(root.partitions ?? null);
    this.currentWatermark = decodeTime(root.watermark, 'watermark');
    this.lastEarlyFiringAt = typeof root.lastEarlyFiringAt === 'number' ? root.lastEarlyFiringAt : null;
    this.results = [];
    this.lateElements = [];
    this.decodeState(root.state ?? null, { version, snapshotLatenessMs });
  }

  /** Adds an element to its windows, queueing late firings or a late element. */
  protected abstract accept(partition: PartitionId, key: K, timestamp: number, value: V): void;
  /** Fires and cleans up everything due at or before `watermark`, in timestamp order. */
  protected abstract fireTimersUpTo(watermark: number): void;
  /** Fires early, in timestamp order, every window that changed since its last firing and whose end − 1 is after the watermark. */
  protected abstract fireChangedWindows(): void;
  protected abstract encodeState(): Json;
  /** Replaces all window state with the decoded snapshot state; applies the configured lateness to every window. */
  protected abstract decodeState(json: Json, context: DecodeContext): void;

  protected get retracting(): boolean {
    return this.accumulation === 'accumulating-and-retracting';
  }

  protected get discarding(): boolean {
    return this.accumulation === 'discarding';
  }

  /**
   * Emits one firing of a window and returns what it emitted, for the window to keep (and
   * checkpoint) until its next firing. `previous` is the window's own last firing, `superseded` the
   * last firings of windows merged into it. The caller resets the accumulator in discarding mode.
   */
  protected firePane(
    key: K,
    start: number,
    end: number,
    kind: FiringKind,
    acc: A,
    previous: EmittedPane<A> | null,
    superseded: readonly EmittedPane<A>[] | null = null,
  ): EmittedPane<A> {
    let pane = previous === null ? 0 : previous.pane + 1;
    let retracts: WindowBounds[] | null = null;
    let retractions: Retraction<R>[] | null = null;
    const replaced =
      superseded === null
        ? previous === null
          ? []
          : [previous]
        : previous === null
          ? superseded
          : [...superseded, previous];
    for (const old of replaced) {
      if (old.pane + 1 > pane) pane = old.pane + 1;
      if (old.start !== start || old.end !== end) (retracts ??= []).push({ start: old.start, end: old.end });
      if (this.retracting && old.acc !== null) {
        (retractions ??= []).push({
          windowStart: old.start,
          windowEnd: old.end,
          pane: old.pane,
          value: this.aggregate.result(old.acc),
        });
      }
    }
    retracts?.sort((a, b) => a.start - b.start);
    retractions?.sort((a, b) => a.windowStart - b.windowStart);
    this.results.push({
      key,
      windowStart: start,
      windowEnd: end,
      timestamp: end - 1,
      kind,
      pane,
      value: this.aggregate.result(acc),
      retracts: retracts ?? NO_RETRACTS,
      retractions: retractions ?? NO_RETRACTIONS,
    });
    return { start, end, pane, acc: this.retracting ? this.copyAccumulator(acc) : null };
  }

  /** A deep copy through the aggregate's codec: the window's accumulator goes on changing in place. */
  protected copyAccumulator(acc: A): A {
    return this.aggregate.fromJSON(this.aggregate.toJSON(acc));
  }

  protected encodeEmitted(emitted: EmittedPane<A> | null): Json {
    if (emitted === null) return null;
    return {
      start: emitted.start,
      end: emitted.end,
      pane: emitted.pane,
      acc: emitted.acc === null ? null : this.aggregate.toJSON(emitted.acc),
    };
  }

  /** Missing (a version 1 snapshot) or null: nothing emitted. An accumulator only counts in retracting mode. */
  protected decodeEmitted(json: Json | undefined, path: string): EmittedPane<A> | null {
    if (json === undefined || json === null) return null;
    const e = asObject(json, path);
    const acc = e.acc === undefined || e.acc === null || !this.retracting ? null : this.aggregate.fromJSON(e.acc);
    return {
      start: asNumber(e.start, `${path}.start`),
      end: asNumber(e.end, `${path}.end`),
      pane: asNumber(e.pane, `${path}.pane`),
      acc,
    };
  }

  protected emitLate(partition: PartitionId, key: K, timestamp: number, value: V): void {
    this.lateElements.push({ partition, key, timestamp, value, watermark: this.currentWatermark });
  }
}

/** Decodes a key stored in a snapshot. */
export function decodeKey<K extends Key>(json: Json | undefined, path: string): K {
  if (typeof json !== 'string' && typeof json !== 'number')
    throw new SnapshotError(`${path} must be a string or number key`);
  return json as K;
}
