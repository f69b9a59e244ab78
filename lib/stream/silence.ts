import type { Clock } from './watermarks';

// Event time through silence. A watermark only moves when records arrive, so the last windows of
// a quiet input never close: the visit of the last visitor of the night, the minute in which the
// traffic stopped. Flink holds the watermark when every input is idle (and so does
// PartitionWatermarks); a job that must close windows on a quiet input lets event time advance
// at the pace of the silence after its last record instead:
//
//   target = maxTs + silence − idleTimeout − B − 1,  once silence ≥ idleTimeout
//
// For live traffic (maxTs ≈ arrival time) that is "now minus a margin". For a backlog or a
// replay through the topic it advances only by the pause, so nothing still in flight is made
// late by a gap between batches. One implementation for every job (the rollups, sessions and
// peaks jobs each had their own copy, and the peaks one had drifted). Pure: the clock is injected.

export interface SilenceOptions {
  /** Processing time without records before event time starts to advance. */
  idleTimeoutMs: number;
  /** B of the watermark generator the target is meant for: the target never gets ahead of what B would allow. */
  outOfOrdernessMs: number;
  clock: Clock;
}

export class SilenceProgress {
  private maxTs = Number.NEGATIVE_INFINITY;
  private lastRecordTime: number;

  /** `lastRecordAt`: when this process last saw records on the input (default: now), so a re-assigned input does not restart its idle clock. */
  constructor(
    private readonly options: SilenceOptions,
    lastRecordAt?: number,
  ) {
    if (!Number.isSafeInteger(options.idleTimeoutMs) || options.idleTimeoutMs < 0)
      throw new RangeError(`idleTimeoutMs must be a non-negative integer, got ${options.idleTimeoutMs}`);
    this.lastRecordTime = lastRecordAt ?? options.clock();
  }

  /** Processing time of the last batch with records. */
  get lastRecordAt(): number {
    return this.lastRecordTime;
  }

  /** The newest event time seen (−∞ before any). */
  get maxEventTs(): number {
    return this.maxTs;
  }

  /** An element's event time. */
  observe(timestamp: number): void {
    if (timestamp > this.maxTs) this.maxTs = timestamp;
  }

  /** A batch with records arrived (processing time now). */
  records(now = this.options.clock()): void {
    this.lastRecordTime = now;
  }

  /**
   * After restoring an operator from a checkpoint: its watermark implies events up to
   * watermark + B + 1 were seen, so the silence after a restart advances from there.
   */
  resumeFrom(watermark: number): void {
    if (Number.isFinite(watermark)) this.observe(watermark + this.options.outOfOrdernessMs + 1);
  }

  /** The watermark the silence allows, or null while the input is not silent (or has never had records). */
  target(now = this.options.clock()): number | null {
    const silence = now - this.lastRecordTime;
    if (silence < this.options.idleTimeoutMs || !Number.isFinite(this.maxTs)) return null;
    return this.maxTs + silence - this.options.idleTimeoutMs - this.options.outOfOrdernessMs - 1;
  }
}
