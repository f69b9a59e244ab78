// Watermarks: the operator's estimate of how far event time has progressed. Each input partition
// has its own bounded-out-of-orderness generator; the operator follows the slowest partition that is
// still producing data, so one idle partition cannot stall every window.

import { asArray, asBoolean, asObject, type Json } from './json';
import { decodeTime, encodeTime, NO_WATERMARK, type EncodedTime } from './time';

export type PartitionId = string | number;

/** Processing time in ms. Injected so tests step it by hand and idleness stays deterministic. */
export type Clock = () => number;

/**
 * Bounded out-of-orderness: events may arrive up to `outOfOrdernessMs` behind the largest timestamp
 * seen, so the watermark trails it by that much, minus one so that an event at exactly
 * `maxTs − B` still counts as on time. `maxTs` only grows, so the watermark is monotonic.
 */
export class BoundedOutOfOrderness {
  private maxTimestamp = NO_WATERMARK;

  constructor(readonly outOfOrdernessMs: number) {
    if (!Number.isSafeInteger(outOfOrdernessMs) || outOfOrdernessMs < 0) {
      throw new RangeError(`outOfOrdernessMs must be a non-negative integer, got ${outOfOrdernessMs}`);
    }
  }

  onEvent(ts: number): void {
    if (ts > this.maxTimestamp) this.maxTimestamp = ts;
  }

  get maxTs(): number {
    return this.maxTimestamp;
  }

  set maxTs(ts: number) {
    this.maxTimestamp = ts;
  }

  get watermark(): number {
    return this.maxTimestamp === NO_WATERMARK ? NO_WATERMARK : this.maxTimestamp - this.outOfOrdernessMs - 1;
  }
}

export interface PartitionWatermarkOptions {
  /** B: how far behind the largest timestamp seen an event may arrive and still be on time. Default 0. */
  outOfOrdernessMs?: number;
  /** A partition without events for longer than this (processing time) stops holding the watermark back. */
  idleTimeoutMs?: number;
}

interface PartitionState {
  readonly id: PartitionId;
  readonly generator: BoundedOutOfOrderness;
  /** Events arrived since the last periodic emit. */
  active: boolean;
  /** Processing time of the first periodic emit that saw no events, or null while events keep coming. */
  inactiveSince: number | null;
  idle: boolean;
}

export interface PartitionStatus {
  readonly partition: PartitionId;
  readonly maxTs: number;
  readonly watermark: number;
  readonly idle: boolean;
}

export type PartitionWatermarksSnapshot = {
  watermark: EncodedTime;
  partitions: { id: PartitionId; maxTs: EncodedTime; active: boolean; inactiveSince: number | null; idle: boolean }[];
};

/**
 * Per-partition generators combined as the minimum over the partitions that are not idle.
 * Idleness is judged at each periodic emit, as Flink does: the first emit that sees no new events
 * starts the inactivity clock, and once more than the idle timeout has passed the partition is idle.
 * An event clears idleness at once; its partition may then be behind, and its events are handled
 * by the lateness rules because the combined watermark never goes back.
 */
export class PartitionWatermarks {
  readonly outOfOrdernessMs: number;
  readonly idleTimeoutMs: number | undefined;
  private readonly partitions = new Map<PartitionId, PartitionState>();
  private combined = NO_WATERMARK;
  // Most batches come from one partition; remembering it skips a Map lookup per event.
  private lastPartition: PartitionState | undefined;

  constructor(options: PartitionWatermarkOptions = {}) {
    this.outOfOrdernessMs = options.outOfOrdernessMs ?? 0;
    this.idleTimeoutMs = options.idleTimeoutMs;
    if (this.idleTimeoutMs !== undefined && (!Number.isFinite(this.idleTimeoutMs) || this.idleTimeoutMs < 0)) {
      throw new RangeError(`idleTimeoutMs must be a non-negative number, got ${this.idleTimeoutMs}`);
    }
    new BoundedOutOfOrderness(this.outOfOrdernessMs); // validates B once, up front
  }

  /** The combined watermark as of the last periodic emit. */
  get watermark(): number {
    return this.combined;
  }

  /**
   * Registers a partition before its first event (e.g. on assignment). Until it sends data or goes
   * idle it holds the watermark at −∞, which is what makes a slow-starting partition safe.
   */
  addPartition(id: PartitionId): void {
    this.stateOf(id);
  }

  /** Forgets a partition (e.g. revoked), so it no longer holds the watermark back. */
  removePartition(id: PartitionId): void {
    this.partitions.delete(id);
    if (this.lastPartition?.id === id) this.lastPartition = undefined;
  }

  onEvent(id: PartitionId, ts: number): void {
    const state =
      this.lastPartition !== undefined && this.lastPartition.id === id ? this.lastPartition : this.stateOf(id);
    state.generator.onEvent(ts);
    state.active = true;
    state.idle = false;
  }

  /** Periodic emit at processing time `now`: updates idleness and returns the combined watermark. */
  emit(now: number): number {
    let min = Number.POSITIVE_INFINITY;
    let anyActive = false;
    for (const state of this.partitions.values()) {
      this.updateIdleness(state, now);
      if (state.idle) continue;
      anyActive = true;
      const wm = state.generator.watermark;
      if (wm < min) min = wm;
    }
    // With every partition idle there is no evidence of progress, so the watermark holds.
    if (anyActive && min > this.combined) this.combined = min;
    return this.combined;
  }

  status(): PartitionStatus[] {
    return [...this.partitions.values()].map((s) => ({
      partition: s.id,
      maxTs: s.generator.maxTs,
      watermark: s.generator.watermark,
      idle: s.idle,
    }));
  }

  snapshot(): PartitionWatermarksSnapshot {
    return {
      watermark: encodeTime(this.combined),
      partitions: [...this.partitions.values()].map((s) => ({
        id: s.id,
        maxTs: encodeTime(s.generator.maxTs),
        active: s.active,
        inactiveSince: s.inactiveSince,
        idle: s.idle,
      })),
    };
  }

  restore(json: Json): void {
    const root = asObject(json, 'partitions');
    this.partitions.clear();
    this.lastPartition = undefined;
    this.combined = decodeTime(root.watermark, 'partitions.watermark');
    asArray(root.partitions, 'partitions.partitions').forEach((entry, i) => {
      const path = `partitions.partitions[${i}]`;
      const p = asObject(entry, path);
      if (typeof p.id !== 'string' && typeof p.id !== 'number')
        throw new TypeError(`snapshot: ${path}.id must be a string or number`);
      const state = this.stateOf(p.id);
      state.generator.maxTs = decodeTime(p.maxTs, `${path}.maxTs`);
      state.active = asBoolean(p.active, `${path}.active`);
      state.idle = asBoolean(p.idle, `${path}.idle`);
      const since = p.inactiveSince;
      if (since !== null && typeof since !== 'number')
        throw new TypeError(`snapshot: ${path}.inactiveSince must be a number or null`);
      state.inactiveSince = since;
    });
  }

  private stateOf(id: PartitionId): PartitionState {
    let state = this.partitions.get(id);
    if (state === undefined) {
      state = {
        id,
        generator: new BoundedOutOfOrderness(this.outOfOrdernessMs),
        active: false,
        inactiveSince: null,
        idle: false,
      };
      this.partitions.set(id, state);
    }
    this.lastPartition = state;
    return state;
  }

  private updateIdleness(state: PartitionState, now: number): void {
    if (this.idleTimeoutMs === undefined) return;
    if (state.active) {
      state.active = false;
      state.inactiveSince = null;
      state.idle = false;
    } else if (state.inactiveSince === null) {
      state.inactiveSince = now;
    } else {
      state.idle = now - state.inactiveSince > this.idleTimeoutMs;
    }
  }
}
