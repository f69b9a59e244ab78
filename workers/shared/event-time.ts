import { env } from '@/lib/env';

/** The jobs' event-time settings, from the environment (defaults: 15 s out of order, 5 min lateness, 30 s idle). */
export function eventTimeSettings() {
  const e = env();
  return { outOfOrdernessMs: e.OUT_OF_ORDERNESS_MS, allowedLatenessMs: e.ALLOWED_LATENESS_MS, idleTimeoutMs: e.IDLE_TIMEOUT_MS };
}

/**
 * Without records, a watermark never moves and the last windows of a quiet partition never
 * close. Once a partition has been silent for the idle timeout, event time is let advance at the
 * pace of the wall clock since its last record: watermark = maxTs + silence − idle − B − 1.
 * For live traffic (maxTs ≈ arrival time) that is "now minus a margin"; for a backlog or a
 * historical replay through the topic it advances only by the pause, so nothing still in flight
 * is made late by a gap between batches. Returns the watermark to advance to, or null.
 */
export function idleWatermark(maxEventTs: number, lastRecordAt: number, now: number): number | null {
  const { outOfOrdernessMs, idleTimeoutMs } = eventTimeSettings();
  const silence = now - lastRecordAt;
  if (silence < idleTimeoutMs || !Number.isFinite(maxEventTs)) return null;
  return maxEventTs + silence - idleTimeoutMs - outOfOrdernessMs - 1;
}
