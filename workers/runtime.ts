import type pg from 'pg';
import { groupId as namespacedGroup, type Bus, type BusConsumer, type BusMessage, type SeekTarget } from '@/lib/bus';
import type { Json } from '@/lib/stream';
import { checkpointedTransaction, MemoryCheckpoints } from './consumer/checkpoint';
import { deadLetter, type DeadRecord } from './consumer/dead-letters';
import { hooksFromEnv, type RuntimeHooks } from './consumer/hooks';
import { applyIsolated } from './consumer/isolate';
import type { Job, JobBatchResult } from './consumer/job';
import { partitionOwnership } from './consumer/ownership';
import { startTicker } from './consumer/ticker';
import { classifyFailure } from './failure';

// Runs a job as a consumer-group member with effectively-once output (ARCHITECTURE.md). Per
// batch and partition, one PostgreSQL transaction:
//   1. locks the partition's progress row and skips records below its next offset;
//   2. lets the job decode records (unreadable ones go to dead_letters with their bytes) and
//      write its output — jobs dedup by event id via `claimEventIds` (shared/event-ids.ts);
//   3. stores the next offset and the job's checkpoint state (operator snapshots) with it.
// Only after COMMIT are the bus offsets resolved and committed and side effects run. If the
// transaction fails, the job's in-memory state is put back to the last committed checkpoint.
// A failure that is the data's fault (failure.ts) is not retried as it was: the batch is applied
// again one record at a time, each under a savepoint, and a record that fails alone goes to
// dead_letters with its bytes, the error and its site — a poison record never stops a partition.

export type { Decoded, Job, JobBatchResult } from './consumer/job';

export type StartMode = { from: 'checkpoint' } | { from: 'earliest' } | { from: 'latest' } | { from: 'timestamp'; at: number };

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
    // The database, not the bus, knows how far each partition was applied: resume there.
    onAssigned: async (assigned) => {
      const partitions = assigned.filter((a) => a.topic === job.topic).map((a) => a.partition);
      for (const gone of owned) if (!partitions.includes(gone)) job.release(gone);
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
        memory.assign(partition, row);
        if (trustBroker) continue;
        // A start mode moves only the read position. The checkpointed state stays, and what was
        // already counted stays counted: records below the stored next offset are skipped and
        // event ids are deduplicated, so `earliest` re-reads harmlessly and `latest` skips ahead.
        // Recomputing from scratch is what `replay` is for.
        let target: SeekTarget | undefined = row?.next_offset;
        if (start.from !== 'checkpoint' || !row) {
          target = start.from === 'latest' ? 'latest' : start.from === 'timestamp' ? { timestamp: start.at } : 'earliest';
        }
        await consumer.seek(job.topic, partition, target!);
      }
      start = { from: 'checkpoint' };
    },
  });

  await consumer.run((batch) => serially(batch.partition, async () => {
    if (batch.isStale()) return;
    hooks.batchStarted(job.name);
    const last = batch.messages[batch.messages.length - 1]!;
    const nextOffset = (BigInt(last.offset) + 1n).toString();
    if (hooks.variant === 'commit-offset-before-tx') {
      // Negative control only: the classic at-most-once bug.
      batch.resolveOffset(last.offset);
      await batch.commit(nextOffset);
    }
    hooks.crashAt('before-tx', job.name);
    // isolate = false: the whole batch in one apply (the normal path). isolate = true: one record
    // at a time under savepoints, after the batch failed in a way that is the data's fault.
    const applyBatch = (isolate: boolean) =>
      checkpointedTransaction<JobBatchResult, { gapFrom: string } | 'nothing-new'>(p, { job: job.name, topic: batch.topic, partition: batch.partition }, { create: true }, async (tx, row) => {
        memory.fence(batch.partition, row);
        const applied = BigInt(row.next_offset);
        // Contiguity: a batch that starts beyond the stored position would skip records for good.
        // (The negative controls model consumers without these checks, so they skip it.)
        const naive = hooks.variant === 'no-offset-filter' || hooks.variant === 'commit-offset-before-tx';
        const first = BigInt(batch.messages[0]!.offset);
        if (first > applied && !naive) {
          // Unless the log no longer holds anything in between: trimmed past its retention (a job
          // that starts after a trim) or a deleted site's records erased. Seeking back would only
          // fetch this same batch again, forever.
          const stored = await b.firstStoredOffset(batch.topic, batch.partition, applied.toString());
          if (stored === null || BigInt(stored) < first) return { skip: { gapFrom: applied.toString() } };
        }
        const fresh = hooks.variant === 'no-offset-filter' ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) >= applied);
        if (fresh.length === 0) return { skip: 'nothing-new' };
        const good: { message: BusMessage; record: unknown }[] = [];
        const dead: DeadRecord[] = [];
        for (const message of fresh) {
          const d = job.decode(message);
          if (d.ok) good.push({ message, record: d.record });
          else dead.push({ message, reason: d.reason });
        }
        // Unreadable records first, as always (the fault suite's F3 freezes a worker right there);
        // records that fail to apply are known only after applying, and are booked after it.
        if (dead.length) await deadLetter(tx, job.name, dead, job.booksLedger ?? false);
        const failed: DeadRecord[] = [];
        const result = isolate ? await applyIsolated(job, tx, batch.partition, good, row.state, failed) : await job.apply(tx, batch.partition, good);
        if (failed.length) await deadLetter(tx, job.name, failed, job.booksLedger ?? false);
        hooks.crashAt('mid-tx', job.name);
        return { write: result, state: result.state, nextOffset };
      });
    let outcome: Awaited<ReturnType<typeof applyBatch>>;
    try {
      try {
        outcome = await applyBatch(false);
      } catch (e) {
        // Memory ran ahead of the database: put the partition back to its last checkpoint.
        memory.rollback(batch.partition);
        // Retrying a batch that fails because of what it holds fails the same way forever.
        if (classifyFailure(e) === 'transient' || hooks.variant === 'no-poison-guards') throw e;
        console.error(`[${job.name}] batch on ${batch.topic}/${batch.partition} failed on its data (${(e as Error).message}); applying it one record at a time`);
        outcome = await applyBatch(true);
      }
      // Only now is the checkpoint committed: recording it inside the callback would let a failed
      // COMMIT restore state the database never got, and the retried batch would count twice.
      if ('written' in outcome) memory.committed(batch.partition, outcome);
    } catch (e) {
      memory.rollback(batch.partition);
      console.error(`[${job.name}] batch on ${batch.topic}/${batch.partition} failed, will be retried: ${(e as Error).message}`);
      throw e;
    }
    if ('skip' in outcome && typeof outcome.skip === 'object') {
      // Fetched ahead of what is stored (e.g. a zombie's stale position): read from the stored one.
      console.error(`[${job.name}] partition ${batch.partition}: batch starts past the stored position ${outcome.skip.gapFrom}; seeking back`);
      await consumer.seek(batch.topic, batch.partition, outcome.skip.gapFrom);
      return;
    }
    hooks.crashAt('after-commit-before-offset', job.name);
    batch.resolveOffset(last.offset);
    // The bus's committed offset is advisory — assignment seeks to the stored position. A member
    // expelled from the group while this batch ran (a rebalance, an expired session) fails this
    // commit after its output was stored; once this batch returns the consumer rejoins, and
    // whoever owns the partition resumes from the database. Failing the batch here would only crash the
    // process and skip the live notice.
    await batch.commit(nextOffset).catch((e: unknown) => {
      console.error(`[${job.name}] partition ${batch.partition}: offset commit to the bus failed (the stored position stands): ${(e as Error).message}`);
    });
    hooks.crashAt('after-offset-before-live', job.name);
    if ('written' in outcome && outcome.written.after) await outcome.written.after().catch((e: unknown) => console.error(`[${job.name}] after-commit effect failed: ${(e as Error).message}`));
  }));

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
