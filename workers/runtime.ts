import type pg from 'pg';
import { transaction } from '@/lib/db/client';
import { groupId as namespacedGroup, type Bus, type BusConsumer, type BusMessage } from '@/lib/bus';

// Runs a job as a consumer-group member with effectively-once output (see
// ARCHITECTURE.md): per batch, one PostgreSQL transaction locks the partition's progress row,
// skips records already applied, lets the job write its output, and advances the progress.
// Only after COMMIT are bus offsets committed and side effects (live pushes) run. A crash at any
// point replays from the stored progress, and the job's event-id dedup absorbs producer retries.

export interface Job {
  name: string;
  topic: string;
  /** Writes the job's output for these (not yet applied) records inside `tx`. Returns work to do after commit. */
  apply(tx: pg.PoolClient, messages: BusMessage[]): Promise<(() => Promise<void>) | void>;
}

export interface RunningJob {
  consumer: BusConsumer;
  stop(): Promise<void>;
}

export async function runJob(job: Job, b: Bus, p: pg.Pool, opts: { sessionTimeoutMs?: number } = {}): Promise<RunningJob> {
  const groupId = namespacedGroup(`job-${job.name}`);
  const consumer: BusConsumer = b.consumer({
    groupId,
    topics: [job.topic],
    fromBeginning: true,
    sessionTimeoutMs: opts.sessionTimeoutMs,
    // The database, not the bus, knows how far each partition was applied: start there.
    onAssigned: async (assigned) => {
      if (assigned.length === 0) return;
      const r = await p.query<{ partition: number; next_offset: string }>(
        'SELECT partition, next_offset::text AS next_offset FROM consumer_progress WHERE job = $1 AND topic = $2 AND partition = ANY($3)',
        [job.name, job.topic, assigned.map((a) => a.partition)],
      );
      for (const row of r.rows) await consumer.seek(job.topic, row.partition, row.next_offset);
    },
  });

  await consumer.run(async (batch) => {
    const last = batch.messages[batch.messages.length - 1]!;
    const nextOffset = (BigInt(last.offset) + 1n).toString();
    const after = await transaction(p, async (tx) => {
      await tx.query(
        'INSERT INTO consumer_progress (job, topic, partition, next_offset) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING',
        [job.name, batch.topic, batch.partition],
      );
      const progress = await tx.query<{ next_offset: string }>(
        'SELECT next_offset::text AS next_offset FROM consumer_progress WHERE job = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
        [job.name, batch.topic, batch.partition],
      );
      const applied = BigInt(progress.rows[0]!.next_offset);
      const fresh = batch.messages.filter((m) => BigInt(m.offset) >= applied);
      if (fresh.length === 0) return undefined;
      const effect = await job.apply(tx, fresh);
      await tx.query('UPDATE consumer_progress SET next_offset = $4, updated_at = now() WHERE job = $1 AND topic = $2 AND partition = $3', [
        job.name,
        batch.topic,
        batch.partition,
        nextOffset,
      ]);
      return effect;
    });
    batch.resolveOffset(last.offset);
    await batch.commit(nextOffset);
    if (after) await after().catch((e: unknown) => console.error(`[${job.name}] after-commit effect failed`, e));
  });

  return { consumer, stop: () => consumer.stop() };
}
