import { env } from '@/lib/env';

/** The jobs' event-time settings, from the environment (defaults: 15 s out of order, 5 min lateness, 30 s idle). */
export function eventTimeSettings() {
  const e = env();
  return { outOfOrdernessMs: e.OUT_OF_ORDERNESS_MS, allowedLatenessMs: e.ALLOWED_LATENESS_MS, idleTimeoutMs: e.IDLE_TIMEOUT_MS };
}

// Event time through silence (the idle watermark) is lib/stream's SilenceProgress.
