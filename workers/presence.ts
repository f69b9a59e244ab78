import os from 'node:os';
import type pg from 'pg';

// A worker process's presence on the pipeline page: one worker_heartbeats row, refreshed every
// few seconds and removed on a graceful stop, and the id under which the runtime records which
// partitions this process owns (partition_owners). A process that dies keeps its rows; the page
// shows them as not alive once the heartbeat is older than three intervals (lib/pipeline/overview.ts).

export const HEARTBEAT_MS = 5_000;

export interface WorkerPresence {
  readonly workerId: string;
  start(): void;
  stop(): Promise<void>;
}

export function workerPresence(o: {
  db: pg.Pool;
  jobs: string[];
  intervalMs?: number;
  now?: () => number;
}): WorkerPresence {
  const now = o.now ?? Date.now;
  const startedAt = new Date(now());
  // host:pid alone can repeat (a container restarts with pid 1); the start time makes it unique.
  const workerId = `${os.hostname()}:${process.pid}:${startedAt.getTime()}`;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const beat = () =>
    o.db
      .query(
        `INSERT INTO worker_heartbeats (worker_id, host, pid, jobs, started_at, seen_at) VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (worker_id) DO UPDATE SET seen_at = now(), jobs = EXCLUDED.jobs`,
        [workerId, os.hostname(), process.pid, o.jobs, startedAt],
      )
      .catch((e: unknown) => console.error(`[presence] heartbeat failed: ${(e as Error).message}`));

  const loop = () => {
    if (stopped) return;
    running = beat().finally(() => {
      if (!stopped) timer = setTimeout(loop, o.intervalMs ?? HEARTBEAT_MS);
      timer?.unref();
    });
  };

  return {
    workerId,
    start: loop,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await o.db.query('DELETE FROM worker_heartbeats WHERE worker_id = $1', [workerId]).catch(() => undefined);
      await o.db.query('DELETE FROM partition_owners WHERE worker_id = $1', [workerId]).catch(() => undefined);
    },
  };
}
