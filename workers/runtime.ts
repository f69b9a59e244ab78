import type pg from 'pg';
import { transaction } from '@/lib/db/client';
import { env } from '@/lib/env';
import { groupId as namespacedGroup, type Bus, type BusConsumer, type BusMessage, type SeekTarget } from '@/lib/bus';
import type { Json } from '@/lib/stream';
import { storableText } from '@/lib/events/storable';
import { classifyFailure } from './failure';

// Runs a job as a consumer-group member with effectively-once output (ARCHITECTURE.md). Per
// batch and partition, one PostgreSQL transaction:
//   1. locks the partition's progress row and skips records below its next offset;
//   2. lets the job decode records (unreadable ones go to dead_letters with their bytes) and
//      write its output — jobs dedup by event id via `claimEventIds`;
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

/**
 * Inserts event ids this job has not applied yet and returns the records that are new. Everything a
 * job counts must come from the returned set: that is what makes re-sends and replays harmless.
 * `bookDuplicates`: the job that books the ingestion ledger counts what it dropped there, per site,
 * in the same transaction (a rolled-back batch or record books nothing).
 */
export async function claimEventIds<T extends { eventId: string; siteId?: string }>(tx: pg.PoolClient, job: string, records: T[], opts: { bookDuplicates?: boolean } = {}): Promise<T[]> {
  if (records.length === 0) return [];
  if (env().EDDY_TEST_BROKEN_VARIANT === 'no-event-id-dedup') return records; // negative control only
  const r = await tx.query<{ event_id: string }>(
    `INSERT INTO event_ids (job, event_id) SELECT $1, id FROM unnest($2::uuid[]) AS id ON CONFLICT DO NOTHING RETURNING event_id`,
    [job, records.map((x) => x.eventId)],
  );
  const fresh = new Set(r.rows.map((x) => x.event_id));
  // A re-send can sit in the same batch as its original: only the first occurrence is new.
  const claimed = records.filter((x) => fresh.delete(x.eventId));
  if (opts.bookDuplicates && claimed.length < records.length) {
    const kept = new Set(claimed);
    const perSite = new Map<string, number>();
    for (const x of records) if (!kept.has(x)) perSite.set(x.siteId ?? NO_SITE, (perSite.get(x.siteId ?? NO_SITE) ?? 0) + 1);
    await tx.query(
      `INSERT INTO ingestion_ledger (site_id, minute, duplicates) SELECT u.site, date_trunc('minute', now()), u.n FROM unnest($1::uuid[], $2::int[]) AS u(site, n)
       ON CONFLICT (site_id, minute) DO UPDATE SET duplicates = ingestion_ledger.duplicates + EXCLUDED.duplicates`,
      [[...perSite.keys()], [...perSite.values()]],
    );
  }
  return claimed;
}

/**
 * The rollups and sessions jobs write the same rollup rows (different columns). Taking a
 * transaction-level advisory lock per (site, partition), always in the same sorted order, before
 * writing any row keeps their transactions from deadlocking on each other.
 */
export async function lockSiteRows(tx: pg.PoolClient, partition: number, siteIds: Iterable<string>): Promise<void> {
  const keys = [...new Set(siteIds)].sort();
  for (const site of keys) await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), $2)', [site, partition]);
}

let batchesSeen = 0;
function crashPoint(point: NonNullable<ReturnType<typeof env>['EDDY_TEST_CRASH_POINT']>): void {
  const e = env();
  if (e.EDDY_TEST_CRASH_POINT !== point) return;
  if (batchesSeen < e.EDDY_TEST_CRASH_AFTER) return;
  console.error(`[crash-test] dying at ${point}`);
  process.kill(process.pid, 'SIGKILL');
}

export interface RunJobOptions {
  sessionTimeoutMs?: number;
  start?: StartMode;
  /** This process's id in worker_heartbeats (workers/presence.ts): partition ownership is recorded under it. */
  workerId?: string;
}

export async function runJob(job: Job, b: Bus, p: pg.Pool, opts: RunJobOptions = {}): Promise<RunningJob> {
  const groupId = namespacedGroup(`job-${job.name}`);
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
  // For the pipeline page only: nothing reads it to decide anything, so a failed write is logged
  // and the assignment goes on (a terminated backend must not cost a rebalance). Writes are
  // chained, so the final delete on stop comes after any assignment still being recorded.
  let ownership: Promise<void> = Promise.resolve();
  let stopping = false;
  const writeOwnership = async (partitions: number[]) => {
    if (!opts.workerId || (stopping && partitions.length > 0)) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await p.query('DELETE FROM partition_owners WHERE job = $1 AND topic = $2 AND worker_id = $3 AND NOT (partition = ANY($4::int[]))', [
          job.name,
          job.topic,
          opts.workerId,
          partitions,
        ]);
        if (partitions.length === 0) return;
        await p.query(
          `INSERT INTO partition_owners (job, topic, partition, worker_id, assigned_at) SELECT $1, $2, unnest($4::int[]), $3, now()
           ON CONFLICT (job, topic, partition) DO UPDATE SET worker_id = EXCLUDED.worker_id, assigned_at = EXCLUDED.assigned_at`,
          [job.name, job.topic, opts.workerId, [...partitions].sort((x, y) => x - y)],
        );
        return;
      } catch (e) {
        // Two members recording a rebalance at once can deadlock on these rows: one retry settles it.
        if ((e as { code?: string }).code === '40P01' && attempt === 1) continue;
        console.error(`[${job.name}] could not record partition ownership: ${(e as Error).message}`);
        return;
      }
    }
  };
  const recordOwnership = (partitions: number[]) => (ownership = ownership.then(() => writeOwnership(partitions)));
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
      await recordOwnership(partitions);
      if (partitions.length === 0) return;
      const r = await p.query<{ partition: number; next_offset: string; state: Json | null; version: string }>(
        'SELECT partition, next_offset::text AS next_offset, state, version::text AS version FROM consumer_progress WHERE job = $1 AND topic = $2 AND partition = ANY($3)',
        [job.name, job.topic, partitions],
      );
      const stored = new Map(r.rows.map((row) => [row.partition, row]));
      // The at-most-once negative control trusts the broker's committed offsets, as naive consumers do.
      const trustBroker = env().EDDY_TEST_BROKEN_VARIANT === 'commit-offset-before-tx';
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
    batchesSeen++;
    const last = batch.messages[batch.messages.length - 1]!;
    const nextOffset = (BigInt(last.offset) + 1n).toString();
    if (env().EDDY_TEST_BROKEN_VARIANT === 'commit-offset-before-tx') {
      // Negative control only: the classic at-most-once bug.
      batch.resolveOffset(last.offset);
      await batch.commit(nextOffset);
    }
    crashPoint('before-tx');
    // isolate = false: the whole batch in one apply (the normal path). isolate = true: one record
    // at a time under savepoints, after the batch failed in a way that is the data's fault.
    const applyBatch = (isolate: boolean) =>
      transaction(p, async (tx): Promise<(JobBatchResult & { version: string }) | { gapFrom: string } | undefined> => {
        await tx.query('INSERT INTO consumer_progress (job, topic, partition, next_offset) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING', [
          job.name,
          batch.topic,
          batch.partition,
        ]);
        const progress = await tx.query<{ next_offset: string; version: string; state: Json | null }>(
          'SELECT next_offset::text AS next_offset, version::text AS version, state FROM consumer_progress WHERE job = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
          [job.name, batch.topic, batch.partition],
        );
        const row = progress.rows[0]!;
        fence(batch.partition, row);
        const applied = BigInt(row.next_offset);
        // Contiguity: a batch that starts beyond the stored position would skip records for good.
        // (The negative controls model consumers without these checks, so they skip it.)
        const naive = env().EDDY_TEST_BROKEN_VARIANT === 'no-offset-filter' || env().EDDY_TEST_BROKEN_VARIANT === 'commit-offset-before-tx';
        const first = BigInt(batch.messages[0]!.offset);
        if (first > applied && !naive) {
          // Unless the log no longer holds anything in between: trimmed past its retention (a job
          // that starts after a trim) or a deleted site's records erased. Seeking back would only
          // fetch this same batch again, forever.
          const stored = await b.firstStoredOffset(batch.topic, batch.partition, applied.toString());
          if (stored === null || BigInt(stored) < first) return { gapFrom: applied.toString() };
        }
        const fresh = env().EDDY_TEST_BROKEN_VARIANT === 'no-offset-filter' ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) >= applied);
        if (fresh.length === 0) return undefined;
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
        crashPoint('mid-tx');
        const written = await tx.query<{ version: string }>(
          'UPDATE consumer_progress SET next_offset = $4, state = $5, version = version + 1, updated_at = now() WHERE job = $1 AND topic = $2 AND partition = $3 RETURNING version::text AS version',
          [job.name, batch.topic, batch.partition, nextOffset, result.state === undefined ? null : JSON.stringify(result.state)],
        );
        return { ...result, version: written.rows[0]!.version };
      });
    let outcome: (JobBatchResult & { version: string }) | { gapFrom: string } | undefined;
    try {
      try {
        outcome = await applyBatch(false);
      } catch (e) {
        // Memory ran ahead of the database: put the partition back to its last checkpoint.
        restoreCommitted(batch.partition);
        // Retrying a batch that fails because of what it holds fails the same way forever.
        if (classifyFailure(e) === 'transient' || env().EDDY_TEST_BROKEN_VARIANT === 'no-poison-guards') throw e;
        console.error(`[${job.name}] batch on ${batch.topic}/${batch.partition} failed on its data (${(e as Error).message}); applying it one record at a time`);
        outcome = await applyBatch(true);
      }
      // Only now is the checkpoint committed: recording it inside the callback would let a failed
      // COMMIT restore state the database never got, and the retried batch would count twice.
      if (outcome && 'version' in outcome) committed.set(batch.partition, { version: outcome.version, state: outcome.state ?? null });
    } catch (e) {
      restoreCommitted(batch.partition);
      console.error(`[${job.name}] batch on ${batch.topic}/${batch.partition} failed, will be retried: ${(e as Error).message}`);
      throw e;
    }
    if (outcome && 'gapFrom' in outcome) {
      // Fetched ahead of what is stored (e.g. a zombie's stale position): read from the stored one.
      console.error(`[${job.name}] partition ${batch.partition}: batch starts past the stored position ${outcome.gapFrom}; seeking back`);
      await consumer.seek(batch.topic, batch.partition, outcome.gapFrom);
      return;
    }
    crashPoint('after-commit-before-offset');
    batch.resolveOffset(last.offset);
    // The bus's committed offset is advisory — assignment seeks to the stored position. A member
    // expelled from the group while this batch ran (a rebalance, an expired session) fails this
    // commit after its output was stored; once this batch returns the consumer rejoins, and
    // whoever owns the partition resumes from the database. Failing the batch here would only crash the
    // process and skip the live notice.
    await batch.commit(nextOffset).catch((e: unknown) => {
      console.error(`[${job.name}] partition ${batch.partition}: offset commit to the bus failed (the stored position stands): ${(e as Error).message}`);
    });
    crashPoint('after-offset-before-live');
    if (outcome?.after) await outcome.after().catch((e: unknown) => console.error(`[${job.name}] after-commit effect failed: ${(e as Error).message}`));
  }));

  const tick = job.tick?.bind(job);
  const ticker = tick
    ? setInterval(() => {
        for (const partition of owned) {
          void serially(partition, async () => {
            let outcome: (JobBatchResult & { version: string }) | undefined;
            try {
              outcome = await transaction(p, async (tx) => {
                const progress = await tx.query<{ version: string; state: Json | null }>(
                  'SELECT version::text AS version, state FROM consumer_progress WHERE job = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
                  [job.name, job.topic, partition],
                );
                if (!progress.rowCount) return undefined; // nothing applied yet: nothing to close
                const before = committed.get(partition)?.version;
                fence(partition, progress.rows[0]!);
                if (before !== progress.rows[0]!.version) return undefined; // adopted another worker's checkpoint: tick next time
                const result = await tick(tx, partition, Date.now());
                if (!result) return undefined;
                const written = await tx.query<{ version: string }>(
                  'UPDATE consumer_progress SET state = $4, version = version + 1, updated_at = now() WHERE job = $1 AND topic = $2 AND partition = $3 RETURNING version::text AS version',
                  [job.name, job.topic, partition, result.state === undefined ? null : JSON.stringify(result.state)],
                );
                return { ...result, version: written.rows[0]!.version };
              });
              if (outcome) committed.set(partition, { version: outcome.version, state: outcome.state ?? null });
            } catch (e) {
              restoreCommitted(partition);
              console.error(`[${job.name}] tick on partition ${partition} failed: ${(e as Error).message}`);
              return;
            }
            if (outcome?.after) await outcome.after().catch((e: unknown) => console.error(`[${job.name}] after-tick effect failed: ${(e as Error).message}`));
          });
        }
      }, TICK_MS)
    : undefined;
  ticker?.unref();

  return {
    consumer,
    stop: async () => {
      clearInterval(ticker);
      stopping = true;
      await consumer.stop();
      await Promise.allSettled(chains.values());
      await recordOwnership([]);
    },
  };
}

interface DeadRecord {
  message: BusMessage;
  reason: string;
  /** Known when the record decoded (it failed to apply); unknown for a record that cannot be read. */
  siteId?: string;
}

const NO_SITE = '00000000-0000-0000-0000-000000000000';

async function deadLetter(tx: pg.PoolClient, job: string, dead: DeadRecord[], booksLedger: boolean): Promise<void> {
  await tx.query(
    `INSERT INTO dead_letters (job, topic, partition, "offset", key, value, reason, site_id)
     SELECT $1, u.topic, u.partition, u.off, u.key, u.value, u.reason, u.site
     FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bytea[], $6::bytea[], $7::text[], $8::uuid[]) AS u(topic, partition, off, key, value, reason, site)
     ON CONFLICT DO NOTHING`,
    [
      job,
      dead.map((d) => d.message.topic),
      dead.map((d) => d.message.partition),
      dead.map((d) => d.message.offset),
      dead.map((d) => d.message.key),
      dead.map((d) => d.message.value),
      // The reason can quote the record (a property key in a validation path): keep it storable.
      dead.map((d) => storableText(d.reason).slice(0, 500)),
      dead.map((d) => d.siteId ?? null),
    ],
  );
  if (!booksLedger) return;
  // A record we cannot read names no site we can trust: booked against no site. One that decoded
  // but failed to apply is booked against its own site, so its owner sees it in the ledger.
  const perSite = new Map<string, number>();
  for (const d of dead) perSite.set(d.siteId ?? NO_SITE, (perSite.get(d.siteId ?? NO_SITE) ?? 0) + 1);
  await tx.query(
    `INSERT INTO ingestion_ledger (site_id, minute, dead_lettered) SELECT u.site, date_trunc('minute', now()), u.n FROM unnest($1::uuid[], $2::int[]) AS u(site, n)
     ON CONFLICT (site_id, minute) DO UPDATE SET dead_lettered = ingestion_ledger.dead_lettered + EXCLUDED.dead_lettered`,
    [[...perSite.keys()], [...perSite.values()]],
  );
}
