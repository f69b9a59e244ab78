import type { Env } from '@/lib/env';

/** The settings every stream job's event time is built from (lib/env.ts: 15 s out of order, 5 min lateness, 30 s idle). */
export type EventTimeEnv = Pick<Env, 'OUT_OF_ORDERNESS_MS' | 'ALLOWED_LATENESS_MS' | 'IDLE_TIMEOUT_MS'>;

/** The jobs' event-time settings under the operators' names. Passed in, not read here: a job sees only what its caller gives it. */
export function eventTimeSettings(s: EventTimeEnv) {
  return {
    outOfOrdernessMs: s.OUT_OF_ORDERNESS_MS,
    allowedLatenessMs: s.ALLOWED_LATENESS_MS,
    idleTimeoutMs: s.IDLE_TIMEOUT_MS,
  };
}

// Event time through silence (the idle watermark) is lib/stream's SilenceProgress.
