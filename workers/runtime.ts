import type pg from 'pg';
import { groupId as namespacedGroup, type Bus, type BusConsumer, type SeekTarget } from '@/lib/bus';
import type { Json } from '@/lib/stream';
import { applyBatchStep } from './consumer/batch';
import { MemoryCheckpoints } from './consumer/checkpoint';
import { hooksFromEnv, type RuntimeHooks } from './consumer/hooks';
import type { Job } from './consumer/job';
import { partitionOwnership } from './consumer/ownership';
import { startTicker } from './consumer/ticker';

// Runs a job as a consumer-group member with effectively-once output (ARCHITECTURE.md). Per
// batch and partition, one PostgreSQL transaction:
//   1. locks the partition's progress row and skips records below its next offset;
//   2. decodes records and runs the job's steps (dedup by event id, deleted sites), each saying
//      per record ok | drop | dead-letter (consumer/outcome.ts); the job writes output for the
//      `ok` ones, and the runtime books the rest (dead_letters, the ledger);
//   3. stores the next offset and the job's checkpoint state (operator snapshots) with it.
// Only after COMMIT are the bus offsets resolved and committed and side effects run. If the
// transaction fails, the job's in-memory state is put back to the last committed checkpoint.
// A failure that is the data's fault (failure.ts) is not retried as it was: the batch is applied
// again one record at a time, each under a savepoint, and a record that fails alone goes to
// dead_letters with its bytes, the error and its site — a poison record never stops a partition.

export type { Job, JobBatchResult } from './consumer/job';

export type StartMode =
  { from: 'checkpoint' } | { from: 'earliest' } | { from: 'latest' } | { from: 'timestamp'; at: number };

export interface RunningJob {
  consumer: BusConsumer;
  stop(): Promise<void>;
}

export interface RunJobOptions {
  sessionTimeoutMs?: number;
  start?: StartMode;
  /** This process's id in worker_heartbeats (workers/presence.ts): partition ownership is recorded under it. */
  workerId?: string;
  /** Fault injection (crash points, negative controls); default: what the environment asks for. */
  hooks?: RuntimeHooks;
  /**
   * How many of its partitions this member applies at once (default 1). Each batch is its own
   * transaction on its own connection. Their output rows are mostly disjoint (keyed by source
   * partition or by visitor, which the partition key includes); the rows they share — a site's
   * ledger minute, insights' late-event rows — are taken in site order or under a site lock.
   */
  partitionsConcurrently?: number;
}

export async function runJob(job: Job, b: Bus, p: pg.Pool, opts: RunJobOptions = {}): Promise<RunningJob> {
  const groupId = namespacedGroup(`job-${job.name}`);
  const hooks = opts.hooks ?? hooksFromEnv();
  const memory = new MemoryCheckpoints(job);
  let owned = new Set<number>();
  // Batches and ticks of one partition never interleave: both go through this chain.
  const chains = new Map<number, Promise<unknown>>();
  const serially = <R>(partition: number, fn: () => Promise<R>): Promise<R> => {
    const next = (chains.get(partition) ?? Promise.resolve()).catch(() => undefined).then(fn);
    chains.set(partition, next);
    return next;
  };
  let start = opts.start ?? { from: 'checkpoint' };
  const ownership = partitionOwnership(p, job.name, job.topic, opts.workerId);
  const consumer: BusConsumer = b.consumer({
    groupId,
    topics: [job.topic],
    fromBeginning: true,
    sessionTimeoutMs: opts.sessionTimeoutMs,
    partitionsConcurrently: opts.partitionsConcurrently,
    // The database, not the bus, knows how far each partition was applied: resume there.
    onAssigned: async (assigned) => {
      const partitions = assigned.filter((a) => a.topic === job.topic).map((a) => a.partition);
      // Through the partition's chain, like batches and ticks: a tick in flight would otherwise
      // commit a checkpoint after memory was restored under it, and memory would no longer match.
      for (const gone of owned) if (!partitions.includes(gone)) await serially(gone, async () => job.release(gone));
      owned = new Set(partitions);
      await ownership.record(partitions);
      if (partitions.length === 0) return;
      const r = await p.query<{ partition: number; next_offset: string; state: Json | null; version: string }>(
        'SELECT partition, next_offset::text AS next_offset, state, version::text AS version FROM consumer_progress WHERE job = $1 AND topic = $2 AND partition = ANY($3)',
        [job.name, job.topic, partitions],
      );
      const stored = new Map(r.rows.map((row) => [row.partition, row]));
      // The at-most-once negative control trusts the broker's committed offsets, as naive consumers do.
      const trustBroker = hooks.variant === 'commit-offset-before-tx';
      for (const partition of partitions) {
        const row = stored.get(partition);
        await serially(partition, async () => memory.assign(partition, row));
        if (trustBroker) continue;
        // A start mode moves only the read position. The checkpointed state stays, and what was
        // already counted stays counted: records below the stored next offset are skipped and
        // event ids are deduplicated, so `earliest` re-reads harmlessly and `latest` skips ahead.
        // Recomputing from scratch is what `replay` is for.
        let target: SeekTarget | undefined = row?.next_offset;
        if (start.from !== 'checkpoint' || !row) {
          target =
            start.from === 'latest' ? 'latest' : start.from === 'timestamp' ? { timestamp: start.at } : 'earliest';
        }
        await consumer.seek(job.topic, partition, target!);
      }
      start = { from: 'checkpoint' };
    },
  });

  await consumer.run((batch) =>
    serially(batch.partition, () => applyBatchStep({ job, bus: b, pool: p, hooks, memory, consumer }, batch)),
  );

  const ticker = startTicker(job, p, () => owned, serially, memory);

  return {
    consumer,
    stop: async () => {
      clearInterval(ticker);
      ownership.stopping();
      await consumer.stop();
      await Promise.allSettled(chains.values());
      await ownership.record([]);
    },
  };
}
