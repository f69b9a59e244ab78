import type pg from 'pg';
import { checkpointedTransaction, type Checkpointed, type MemoryCheckpoints } from './checkpoint';
import type { Job, JobBatchResult } from './job';

/** How often a job's `tick` runs on each partition this process owns. */
export const TICK_MS = 2000;

/**
 * Every TICK_MS, lets each owned partition's event time advance without new records (a partition
 * that went quiet closes its last windows), in the same checkpointed transaction as a batch and
 * in the partition's chain, so a tick never interleaves with a batch. Undefined for a job without
 * `tick`.
 */
export function startTicker(
  job: Job,
  p: pg.Pool,
  owned: () => Iterable<number>,
  serially: (partition: number, fn: () => Promise<void>) => Promise<void>,
  memory: MemoryCheckpoints,
): NodeJS.Timeout | undefined {
  const tick = job.tick?.bind(job);
  if (!tick) return undefined;
  // One tick transaction of this job at a time: a round ticks its partitions one after another
  // (each in its chain), and a round still running when the next is due skips it. Ticking every
  // owned partition at once took a pooled connection per partition per job every TICK_MS — more
  // than the pool a worker sizes for its batches, so batches queued behind idle ticks.
  let round: Promise<void> | undefined;
  const tickPartition = (partition: number) =>
    serially(partition, async () => {
      let outcome: Checkpointed<JobBatchResult, 'adopted' | 'idle'>;
      try {
        outcome = await checkpointedTransaction<JobBatchResult, 'adopted' | 'idle'>(
          p,
          { job: job.name, topic: job.topic, partition },
          { create: false, known: memory.known(partition) },
          async (tx, row) => {
            const before = memory.version(partition);
            memory.fence(partition, row);
            if (before !== row.version) return { skip: 'adopted' }; // another worker's checkpoint: tick next time
            const result = await tick(tx, partition, Date.now());
            return result ? { write: result, state: result.state } : { skip: 'idle' };
          },
        );
        if ('written' in outcome) memory.committed(partition, outcome);
      } catch (e) {
        memory.rollback(partition);
        console.error(`[${job.name}] tick on partition ${partition} failed: ${(e as Error).message}`);
        return;
      }
      if ('written' in outcome && outcome.written.after)
        await outcome.written
          .after()
          .catch((e: unknown) => console.error(`[${job.name}] after-tick effect failed: ${(e as Error).message}`));
    });
  const timer = setInterval(() => {
    if (round) return;
    round = (async () => {
      for (const partition of [...owned()]) await tickPartition(partition);
    })().finally(() => (round = undefined));
  }, TICK_MS);
  timer.unref();
  return timer;
}
