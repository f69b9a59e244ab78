// The shape of every job that runs in passes on a timer instead of consuming a topic (peaks,
// reconcile, retention, alerts, exports, imports): `runOnce` runs a pass now (tests call it with
// their own clock), `start` runs one pass after another with `everyMs` between the end of one and
// the start of the next — a slow pass delays the next instead of queueing more behind it — a
// failed pass is logged and the next one tries again, and `stop` waits for the pass in flight, then
// runs the job's own `onStop` (e.g. releasing a leader connection). Passes of one process never
// overlap. Keeping several processes apart is each job's own business (an advisory lock, a leader
// lock, or a queue claimed with SKIP LOCKED), since what must not run twice differs per job.

export interface ScheduledJob<A extends unknown[], R> {
  runOnce(...args: A): Promise<R>;
  start(everyMs?: number): void;
  stop(): Promise<void>;
}

export function scheduledJob<A extends unknown[], R>(
  name: string,
  pass: (...args: A | []) => Promise<R>,
  options: { everyMs: number; immediately?: boolean; onStop?: () => Promise<void> },
): ScheduledJob<A, R> {
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let running: Promise<unknown> = Promise.resolve();
  const runOnce = (...args: A | []): Promise<R> => {
    const next = running.catch(() => undefined).then(() => pass(...args));
    running = next;
    return next;
  };
  return {
    runOnce,
    start(everyMs = options.everyMs) {
      if (started) return;
      started = true;
      const tick = () => {
        timer = undefined;
        void runOnce()
          .catch((e: unknown) => console.error(`[${name}] pass failed: ${(e as Error).message}`))
          .finally(() => {
            if (started) timer = setTimeout(tick, everyMs);
          });
      };
      if (options.immediately) tick();
      else timer = setTimeout(tick, everyMs);
    },
    async stop() {
      started = false;
      clearTimeout(timer);
      timer = undefined;
      await running.catch(() => undefined);
      await options.onStop?.();
    },
  };
}
