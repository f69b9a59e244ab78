import type pg from 'pg';
import type { Bus, BusConsumer, ConsumedBatch } from '@/lib/bus';
import { classifyFailure } from '../failure';
import { checkpointedTransaction, type MemoryCheckpoints } from './checkpoint';
import { bookDrops, deadLetter, type DeadRecord } from './dead-letters';
import type { RuntimeHooks } from './hooks';
import { applyIsolated } from './isolate';
import type { Job, JobBatchResult } from './job';
import type { Dropped } from './outcome';
import { applyRecords, type Ready } from './steps';

// One batch of one partition, the heart of effectively-once (ARCHITECTURE.md): in one checkpointed
// transaction, fence on the progress row, skip what was applied, dead-letter what cannot be read,
// apply the rest (again one record at a time if the batch fails on its data), store position and
// checkpoint; only after COMMIT resolve and commit the bus offset and run the job's side effects.

export interface BatchContext {
  job: Job;
  bus: Bus;
  pool: pg.Pool;
  hooks: RuntimeHooks;
  memory: MemoryCheckpoints;
  consumer: BusConsumer;
}

export async function applyBatchStep(
  { job, bus: b, pool: p, hooks, memory, consumer }: BatchContext,
  batch: ConsumedBatch,
): Promise<void> {
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
    checkpointedTransaction<JobBatchResult, { gapFrom: string } | 'nothing-new'>(
      p,
      { job: job.name, topic: batch.topic, partition: batch.partition },
      { create: true, known: memory.known(batch.partition) },
      async (tx, row) => {
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
        const fresh =
          hooks.variant === 'no-offset-filter'
            ? batch.messages
            : batch.messages.filter((m) => BigInt(m.offset) >= applied);
        if (fresh.length === 0) return { skip: 'nothing-new' };
        const good: Ready<unknown>[] = [];
        const dead: DeadRecord[] = [];
        const dropped: Dropped[] = [];
        for (const message of fresh) {
          const d = job.decode(message);
          if (d.kind === 'ok') good.push({ message, record: d.record });
          else if (d.kind === 'drop') dropped.push({ message, reason: d.reason, siteId: d.siteId });
          else dead.push({ message, reason: d.reason, siteId: d.siteId });
        }
        // Unreadable records first, as always (the fault suite's F3 freezes a worker right there);
        // the steps' and apply's outcomes are known only after applying, and are booked after it.
        const books = job.booksLedger ?? false;
        if (dead.length) await deadLetter(tx, job.name, dead, books);
        const failed: DeadRecord[] = [];
        let result: JobBatchResult;
        if (isolate) result = await applyIsolated(job, tx, batch.partition, good, row.state, failed, dropped);
        else {
          const applied = await applyRecords(job, tx, batch.partition, good);
          result = applied.result;
          failed.push(...applied.dead);
          dropped.push(...applied.dropped);
        }
        if (failed.length) await deadLetter(tx, job.name, failed, books);
        await bookDrops(tx, dropped, books);
        hooks.crashAt('mid-tx', job.name);
        return { write: result, state: result.state, nextOffset };
      },
    );
  let outcome: Awaited<ReturnType<typeof applyBatch>>;
  try {
    try {
      outcome = await applyBatch(false);
    } catch (e) {
      // Memory ran ahead of the database: put the partition back to its last checkpoint.
      memory.rollback(batch.partition);
      // Retrying a batch that fails because of what it holds fails the same way forever.
      if (classifyFailure(e) === 'transient' || hooks.variant === 'no-poison-guards') throw e;
      console.error(
        `[${job.name}] batch on ${batch.topic}/${batch.partition} failed on its data (${(e as Error).message}); applying it one record at a time`,
      );
      outcome = await applyBatch(true);
    }
    // Only now is the checkpoint committed: recording it inside the callback would let a failed
    // COMMIT restore state the database never got, and the retried batch would count twice.
    if ('written' in outcome) memory.committed(batch.partition, outcome);
  } catch (e) {
    memory.rollback(batch.partition);
    console.error(
      `[${job.name}] batch on ${batch.topic}/${batch.partition} failed, will be retried: ${(e as Error).message}`,
    );
    throw e;
  }
  if ('skip' in outcome && typeof outcome.skip === 'object') {
    // Fetched ahead of what is stored (e.g. a zombie's stale position): read from the stored one.
    console.error(
      `[${job.name}] partition ${batch.partition}: batch starts past the stored position ${outcome.skip.gapFrom}; seeking back`,
    );
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
  // Neither the offset commit nor the live notice is awaited: each is a round trip to the broker
  // (the notice a produce with acks=all) that nothing after it depends on, and awaiting them held
  // the job's next batch — on a machine where every round trip waits for a core, a good part of
  // the time between two batches. Failures are logged. A retried commit may land after a later
  // one and move the group's offset back: harmless, as assignment seeks to consumer_progress and
  // the log's trim takes the lowest position. (So the after-offset-before-live crash point now
  // finds the commit sent, not necessarily done.)
  void batch.commit(nextOffset).catch((e: unknown) => {
    console.error(
      `[${job.name}] partition ${batch.partition}: offset commit to the bus failed (the stored position stands): ${(e as Error).message}`,
    );
  });
  hooks.crashAt('after-offset-before-live', job.name);
  if ('written' in outcome && outcome.written.after)
    void outcome.written
      .after()
      .catch((e: unknown) => console.error(`[${job.name}] after-commit effect failed: ${(e as Error).message}`));
}
