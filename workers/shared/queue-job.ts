import { scheduledJob, type ScheduledJob } from './scheduled-job';

// The shape of a job that works through a queue table (exports, imports): each pass runs queued
// items one after another until none is left; several workers may run it (the queue's claim,
// SKIP LOCKED, keeps them apart). Passes, timer and stop are the scheduled-job shape.

export type QueueJob = ScheduledJob<[], number>;

/** `runNext` runs one queued item and returns null when the queue is empty. */
export function queueJob(name: string, runNext: () => Promise<unknown>): QueueJob {
  return scheduledJob<[], number>(
    name,
    async () => {
      let n = 0;
      while ((await runNext()) !== null) n++;
      return n;
    },
    { everyMs: 2000 },
  );
}
