// The shape of every job that runs in passes on a timer instead of consuming a topic (peaks,
// reconcile, retention, exports, imports): `runOnce` runs a pass now (tests call it with their
// own clock), `start` runs one every `everyMs`, passes of one process never overlap (each waits for
// the one before), a failed pass is logged and the next tick tries again, and `stop` waits for
// the pass in flight. Keeping several processes apart is each job's own business (an advisory
// lock, or a queue claimed with SKIP LOCKED), since what must not run twice differs per job.

export interface ScheduledJob<A extends unknown[], R> {
  runOnce(...args: A): Promise<R>;
  start(everyMs?: number): void;
  stop(): Promise<void>;
}

export function scheduledJob<A extends unknown[], R>(
  name: string,
  pass: (...args: A | []) => Promise<R>,
  options: { everyMs: number; immediately?: boolean },
): ScheduledJob<A, R> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const runOnce = (...args: A | []): Promise<R> => {
    const next = running.catch(() => undefined).then(() => pass(...args));
    running = next;
    return next;
  };
  return {
    runOnce,
    start(everyMs = options.everyMs) {
      if (timer) return;
      const tick = () => void runOnce().catch((e: unknown) => console.error(`[${name}] pass failed: ${(e as Error).message}`));
      if (options.immediately) tick();
      timer = setInterval(tick, everyMs);
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running.catch(() => undefined);
    },
  };
}
