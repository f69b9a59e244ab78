import { env } from '@/lib/env';

// Fault injection for the consumer runtime, passed in as one object instead of woven into the real
// path: the crash tests (tests/integration/jobs-crash.test.ts, the chaos suite's F1) kill a worker
// at a named point of its Nth batch, and the negative controls run a deliberately broken build to
// prove the checks catch it. In production both are off (`hooksFromEnv()` reads nothing set).

export type CrashPoint = NonNullable<ReturnType<typeof env>['EDDY_TEST_CRASH_POINT']>;
export type BrokenVariant = NonNullable<ReturnType<typeof env>['EDDY_TEST_BROKEN_VARIANT']>;

export interface RuntimeHooks {
  /** Called at each crash point of `job`'s batch; the test build kills the process there (SIGKILL, no cleanup). */
  crashAt(point: CrashPoint, job: string): void;
  /** Called once per batch before anything else, so `crashAt` can count to its Nth batch. */
  batchStarted(job: string): void;
  /** A negative control's deliberately broken behaviour; undefined in every real build. */
  readonly variant: BrokenVariant | undefined;
}

export const NO_HOOKS: RuntimeHooks = { crashAt: () => undefined, batchStarted: () => undefined, variant: undefined };

let fromEnv: RuntimeHooks | undefined;

/**
 * The hooks the environment asks for (EDDY_TEST_CRASH_POINT / _AFTER, EDDY_TEST_BROKEN_VARIANT).
 * One per process: "the Nth batch" counts the batches of every job the process runs.
 */
export function hooksFromEnv(): RuntimeHooks {
  fromEnv ??= build();
  return fromEnv;
}

function build(): RuntimeHooks {
  const e = env();
  if (!e.EDDY_TEST_CRASH_POINT && !e.EDDY_TEST_BROKEN_VARIANT) return NO_HOOKS;
  let batches = 0;
  return {
    variant: e.EDDY_TEST_BROKEN_VARIANT,
    // With EDDY_TEST_CRASH_JOB, only that job's batches count and crash: a negative control whose
    // loss must be seen needs the crash in a job whose output the checker reads.
    batchStarted: (job) => {
      if (!e.EDDY_TEST_CRASH_JOB || job === e.EDDY_TEST_CRASH_JOB) batches++;
    },
    crashAt(point, job) {
      if (e.EDDY_TEST_CRASH_JOB && job !== e.EDDY_TEST_CRASH_JOB) return;
      if (e.EDDY_TEST_CRASH_POINT !== point || batches < e.EDDY_TEST_CRASH_AFTER) return;
      console.error(`[crash-test] dying at ${point}`);
      process.kill(process.pid, 'SIGKILL');
    },
  };
}
