import type pg from 'pg';
import { groupId as namespacedGroup, type Bus, type BusConsumer, type BusMessage, type SeekTarget } from '@/lib/bus';
import type { Json } from '@/lib/stream';
import { checkpointedTransaction, type Checkpointed } from './consumer/checkpoint';
import { deadLetter, type DeadRecord } from './consumer/dead-letters';
import { hooksFromEnv, type RuntimeHooks } from './consumer/hooks';
import { partitionOwnership } from './consumer/ownership';
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

export interface JobBatchResult {
  /** Checkpoint state to store with the offsets (e.g. operator snapshots). */
  state?: Json;
  /** Runs after commit (live notices); failures are logged, never retried. */
  after?: () => Promise<void>;
}

export type Decoded<T> = { ok: true; record: T } | { ok: false; reason: string };

export interface Job<T = unknown> {
  name: string;
  topic: string;
  /** The one job whose dead letters are booked in the ingestion ledger (others see the same records). */
  booksLedger?: boolean;
  decode(message: BusMessage): Decoded<T>;
  /** The site a decoded record belongs to: a record that fails to apply is dead-lettered and booked against it. */
  siteOf?(record: T): string;
  /** Partition assigned: restore its state from the stored checkpoint (null = start fresh). */
  restore(partition: number, state: Json | null): void;
  /** Partition revoked: forget its in-memory state. */
  release(partition: number): void;
  /** Writes output for records not applied before, inside `tx`. `records` excludes dead letters. */
  apply(tx: pg.PoolClient, partition: number, records: { message: BusMessage; record: T }[]): Promise<JobBatchResult>;
  /**
   * Periodic, without new records (every TICK_MS): lets event time advance on a partition that
   * went quiet so its last windows close. Returns undefined when there was nothing to do.
   */
  tick?(tx: pg.PoolClient, partition: number, now: number): Promise<JobBatchResult | undefined>;
  /** End of input (replays): fire every window that holds state. */
  flush?(tx: pg.PoolClient, partition: number): Promise<JobBatchResult | undefined>;
}

export const TICK_MS = 2000;

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
  // The last checkpoint this process's memory corresponds to, per partition (version + state).
  const committed = new Map<number, { version: string; state: Json | null }>();
  const restoreCommitted = (partition: number) => job.restore(partition, committed.get(partition)?.state ?? null);
  /** Under the row lock: if the stored checkpoint is not the one our memory came from, adopt it. */
  const fence = (partition: number, row: { version: string; state: Json | null }) => {
    if (committed.get(partition)?.version === row.version) return;
    if (committed.has(partition) && committed.get(partition)!.version !== 'none') console.error(`[${job.name}] partition ${partition}: checkpoint moved on elsewhere (v${committed.get(partition)!.version} → v${row.version}); restoring before applying`);
    job.restore(partition, row.state);
    committed.set(partition, { version: row.version, state: row.state });
  };
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
        job.restore(partition, row?.state ?? null);
        committed.set(partition, { version: row?.version ?? 'none', state: row?.state ?? null });
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

  /**
   * Applies records one by one, each under a savepoint. A record whose apply fails on its data is
   * rolled back alone, the job's memory is put back to the state after the last record that
   * applied, and the record joins `dead`. A transient failure still fails the whole batch.
   */
  const applyOneByOne = async (
    tx: pg.PoolClient,
    partition: number,
    records: { message: BusMessage; record: unknown }[],
    before: Json | null,
    dead: DeadRecord[],
  ): Promise<JobBatchResult> => {
    let state: Json | null = before;
    const effects: (() => Promise<void>)[] = [];
    for (const r of records) {
      await tx.query('SAVEPOINT eddy_record');
      try {
        const result = await job.apply(tx, partition, [r]);
        // The record may sit in the job's state without being written anywhere yet (an open
        // session): store the checkpoint now, so a record the checkpoint cannot hold fails here,
        // alone, and not in the batch's final write where it would fail the batch again.
        await tx.query('UPDATE consumer_progress SET state = $4 WHERE job = $1 AND topic = $2 AND partition = $3', [
          job.name,
          r.message.topic,
          partition,
          result.state === undefined ? null : JSON.stringify(result.state),
        ]);
        await tx.query('RELEASE SAVEPOINT eddy_record');
        state = result.state ?? null;
        if (result.after) effects.push(result.after);
      } catch (e) {
        if (classifyFailure(e) === 'transient') throw e;
        await tx.query('ROLLBACK TO SAVEPOINT eddy_record');
        // Through JSON, as a checkpoint read back from the database would be.
        job.restore(partition, state === null ? null : (JSON.parse(JSON.stringify(state)) as Json));
        dead.push({ message: r.message, reason: `apply failed: ${(e as Error).message}`, siteId: job.siteOf?.(r.record) });
        console.error(`[${job.name}] ${r.message.topic}/${partition}@${r.message.offset} cannot be applied, dead-lettered: ${(e as Error).message}`);
      }
    }
    return {
      state: state ?? undefined,
      after: effects.length
        ? async () => {
            for (const effect of effects) await effect();
          }
        : undefined,
    };
  };

  await consumer.run((batch) => serially(batch.partition, async () => {
    if (batch.isStale()) return;
    hooks.batchStarted();
    const last = batch.messages[batch.messages.length - 1]!;
    const nextOffset = (BigInt(last.offset) + 1n).toString();
    if (hooks.variant === 'commit-offset-before-tx') {
      // Negative control only: the classic at-most-once bug.
      batch.resolveOffset(last.offset);
      await batch.commit(nextOffset);
    }
    hooks.crashAt('before-tx');
    // isolate = false: the whole batch in one apply (the normal path). isolate = true: one record
    // at a time under savepoints, after the batch failed in a way that is the data's fault.
    const applyBatch = (isolate: boolean) =>
      checkpointedTransaction<JobBatchResult, { gapFrom: string } | 'nothing-new'>(p, { job: job.name, topic: batch.topic, partition: batch.partition }, { create: true }, async (tx, row) => {
        fence(batch.partition, row);
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
        const result = isolate ? await applyOneByOne(tx, batch.partition, good, row.state, failed) : await job.apply(tx, batch.partition, good);
        if (failed.length) await deadLetter(tx, job.name, failed, job.booksLedger ?? false);
        hooks.crashAt('mid-tx');
        return { write: result, state: result.state, nextOffset };
      });
    let outcome: Awaited<ReturnType<typeof applyBatch>>;
    try {
      try {
        outcome = await applyBatch(false);
      } catch (e) {
        // Memory ran ahead of the database: put the partition back to its last checkpoint.
        restoreCommitted(batch.partition);
        // Retrying a batch that fails because of what it holds fails the same way forever.
        if (classifyFailure(e) === 'transient' || hooks.variant === 'no-poison-guards') throw e;
        console.error(`[${job.name}] batch on ${batch.topic}/${batch.partition} failed on its data (${(e as Error).message}); applying it one record at a time`);
        outcome = await applyBatch(true);
      }
      // Only now is the checkpoint committed: recording it inside the callback would let a failed
      // COMMIT restore state the database never got, and the retried batch would count twice.
      if ('written' in outcome) committed.set(batch.partition, { version: outcome.version, state: outcome.state });
    } catch (e) {
      restoreCommitted(batch.partition);
      console.error(`[${job.name}] batch on ${batch.topic}/${batch.partition} failed, will be retried: ${(e as Error).message}`);
      throw e;
    }
    if ('skip' in outcome && typeof outcome.skip === 'object') {
      // Fetched ahead of what is stored (e.g. a zombie's stale position): read from the stored one.
      console.error(`[${job.name}] partition ${batch.partition}: batch starts past the stored position ${outcome.skip.gapFrom}; seeking back`);
      await consumer.seek(batch.topic, batch.partition, outcome.skip.gapFrom);
      return;
    }
    hooks.crashAt('after-commit-before-offset');
    batch.resolveOffset(last.offset);
    // The bus's committed offset is advisory — assignment seeks to the stored position. A member
    // expelled from the group while this batch ran (a rebalance, an expired session) fails this
    // commit after its output was stored; once this batch returns the consumer rejoins, and
    // whoever owns the partition resumes from the database. Failing the batch here would only crash the
    // process and skip the live notice.
    await batch.commit(nextOffset).catch((e: unknown) => {
      console.error(`[${job.name}] partition ${batch.partition}: offset commit to the bus failed (the stored position stands): ${(e as Error).message}`);
    });
    hooks.crashAt('after-offset-before-live');
    if ('written' in outcome && outcome.written.after) await outcome.written.after().catch((e: unknown) => console.error(`[${job.name}] after-commit effect failed: ${(e as Error).message}`));
  }));

  const tick = job.tick?.bind(job);
  const ticker = tick
    ? setInterval(() => {
        for (const partition of owned) {
          void serially(partition, async () => {
            let outcome: Checkpointed<JobBatchResult, 'adopted' | 'idle'>;
            try {
              outcome = await checkpointedTransaction<JobBatchResult, 'adopted' | 'idle'>(p, { job: job.name, topic: job.topic, partition }, { create: false }, async (tx, row) => {
                const before = committed.get(partition)?.version;
                fence(partition, row);
                if (before !== row.version) return { skip: 'adopted' }; // another worker's checkpoint: tick next time
                const result = await tick(tx, partition, Date.now());
                return result ? { write: result, state: result.state } : { skip: 'idle' };
              });
              if ('written' in outcome) committed.set(partition, { version: outcome.version, state: outcome.state });
            } catch (e) {
              restoreCommitted(partition);
              console.error(`[${job.name}] tick on partition ${partition} failed: ${(e as Error).message}`);
              return;
            }
            if ('written' in outcome && outcome.written.after) await outcome.written.after().catch((e: unknown) => console.error(`[${job.name}] after-tick effect failed: ${(e as Error).message}`));
          });
        }
      }, TICK_MS)
    : undefined;
  ticker?.unref();

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
