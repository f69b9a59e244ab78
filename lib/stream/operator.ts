// What every keyed window operator shares: the contract a worker drives, the watermark bookkeeping,
// the outbox of results and late elements, and the versioned snapshot envelope. The window logic
// itself (time slices, sessions, counts) lives in the subclasses.

import type { Aggregate } from './aggregates';
import { describeAssigner, sameAssigner, type WindowAssigner, type WindowBounds } from './assigners';
import { SnapshotError } from './errors';
import { asObject, type Json } from './json';
import { assertTimestamp, decodeTime, encodeTime, NO_WATERMARK, type EncodedTime } from './time';
import { PartitionWatermarks, type Clock, type PartitionId, type PartitionStatus, type PartitionWatermarksSnapshot } from './watermarks';

export type Key = string | number;

/** `on-time`: the watermark passed the window's end. `late-firing`: an update caused by a late element. */
export type FiringKind = 'on-time' | 'late-firing';

/** One firing of one window. Sinks upsert by `(key, windowStart, windowEnd)`. */
export interface WindowResult<K extends Key, R> {
  readonly key: K;
  readonly windowStart: number;
  readonly windowEnd: number;
  /** `windowEnd − 1`: the last instant the window covers. */
  readonly timestamp: number;
  readonly kind: FiringKind;
  readonly value: R;
  /**
   * Windows of this key emitted earlier that this result replaces (sessions that merged or grew
   * after they fired). The sink deletes those rows in the same transaction as the upsert.
   * Always empty for tumbling, sliding and count windows.
   */
  readonly retracts: readonly WindowBounds[];
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
}

export type OperatorName = 'time-windows' | 'session-windows' | 'count-windows' | 'naive-sliding-windows';

export const SNAPSHOT_VERSION = 1;

/** The checkpoint/savepoint form of an operator: plain JSON, versioned, owned by this library. */
export type OperatorSnapshot = {
  version: typeof SNAPSHOT_VERSION;
  operator: OperatorName;
  assigner: AssignerJson;
  allowedLatenessMs: number;
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
  protected currentWatermark = NO_WATERMARK;
  protected readonly allowedLateness: number;
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
    this.partitions = new PartitionWatermarks({ outOfOrdernessMs: options.outOfOrdernessMs, idleTimeoutMs: options.idleTimeoutMs });
    this.clock = options.clock;
    this.dimensions = options.dimensions;
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
    return this.advanceWatermarkTo(this.partitions.emit(now));
  }

  advanceWatermarkTo(watermark: number): Emission<K, V, R> {
    if (Number.isNaN(watermark)) throw new RangeError('watermark must be a number');
    const target = watermark > this.currentWatermark ? watermark : this.currentWatermark;
    this.fireTimersUpTo(target);
    this.currentWatermark = target;
    return this.drain();
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
      throw new Error('snapshot() with undrained output: call drain() or advanceWatermark() first and persist what it returns');
    }
    return {
      version: SNAPSHOT_VERSION,
      operator: this.operatorName,
      assigner: assignerJson(this.assigner),
      allowedLatenessMs: this.allowedLateness,
      watermark: encodeTime(this.currentWatermark),
      partitions: this.partitions.snapshot(),
      dimensionVersion: this.dimensions === undefined ? null : this.dimensions.version,
      state: this.encodeState(),
    };
  }

  restore(snapshot: OperatorSnapshot | Json): void {
    const root = asObject(snapshot as Json, 'snapshot');
    if (root.version !== SNAPSHOT_VERSION) throw new SnapshotError(`unsupported snapshot version ${JSON.stringify(root.version)}`);
    if (root.operator !== this.operatorName) throw new SnapshotError(`snapshot of ${JSON.stringify(root.operator)} cannot restore ${this.operatorName}`);
    const assigner = parseAssigner(root.assigner);
    if (!sameAssigner(assigner, this.assigner)) {
      throw new SnapshotError(`snapshot windows ${describeAssigner(assigner)} differ from ${describeAssigner(this.assigner)}`);
    }
    // Allowed lateness and out-of-orderness may change across an upgrade; the windows may not.
    this.partitions.restore(root.partitions ?? null);
    this.currentWatermark = decodeTime(root.watermark, 'watermark');
    this.results = [];
    this.lateElements = [];
    this.decodeState(root.state ?? null);
  }

  /** Adds an element to its windows, queueing late firings or a late element. */
  protected abstract accept(partition: PartitionId, key: K, timestamp: number, value: V): void;
  /** Fires and cleans up everything due at or before `watermark`, in timestamp order. */
  protected abstract fireTimersUpTo(watermark: number): void;
  protected abstract encodeState(): Json;
  /** Replaces all window state with the decoded snapshot state. */
  protected abstract decodeState(json: Json): void;

  protected emitResult(key: K, start: number, end: number, kind: FiringKind, value: R, retracts: readonly WindowBounds[] = NO_RETRACTS): void {
    this.results.push({ key, windowStart: start, windowEnd: end, timestamp: end - 1, kind, value, retracts });
  }

  protected emitLate(partition: PartitionId, key: K, timestamp: number, value: V): void {
    this.lateElements.push({ partition, key, timestamp, value, watermark: this.currentWatermark });
  }
}

/** Decodes a key stored in a snapshot. */
export function decodeKey<K extends Key>(json: Json | undefined, path: string): K {
  if (typeof json !== 'string' && typeof json !== 'number') throw new SnapshotError(`${path} must be a string or number key`);
  return json as K;
}
