import type pg from 'pg';
import type { Json } from '@/lib/stream';
import { classifyFailure } from '../failure';
import type { DeadRecord } from './dead-letters';
import type { Job, JobBatchResult } from './job';
import type { Dropped } from './outcome';
import { applyRecords, type Ready } from './steps';

/**
 * Applies records one by one (steps and apply), each under a savepoint. A record whose apply fails on its data is
 * rolled back alone, the job's memory is put back to the state after the last record that
 * applied, and the record joins `dead`. A transient failure still fails the whole batch.
 */
export async function applyIsolated(
  job: Job,
  tx: pg.PoolClient,
  partition: number,
  records: Ready<unknown>[],
  before: Json | null,
  dead: DeadRecord[],
  dropped: Dropped[],
): Promise<JobBatchResult> {
  let state: Json | null = before;
  const effects: (() => Promise<void>)[] = [];
  for (const r of records) {
    await tx.query('SAVEPOINT eddy_record');
    try {
      const { result, dropped: d, dead: stepDead } = await applyRecords(job, tx, partition, [r]);
      // The record may sit in the job's state without being written anywhere yet (an open
      // session): store the checkpoint now, so a record the checkpoint cannot hold fails here,
      // alone, and not in the batch's final write where it would fail the batch again. (Since the
      // column is json, not jsonb, that is only a checkpoint past PostgreSQL's 1 GB value limit;
      // this path runs only after a batch failed on its data.)
      await tx.query('UPDATE consumer_progress SET state = $4 WHERE job = $1 AND topic = $2 AND partition = $3', [
        job.name,
        r.message.topic,
        partition,
        result.state === undefined ? null : JSON.stringify(result.state),
      ]);
      await tx.query('RELEASE SAVEPOINT eddy_record');
      state = result.state ?? null;
      if (result.after) effects.push(result.after);
      // Booked by the caller only now: a record rolled back to its savepoint was neither.
      dropped.push(...d);
      dead.push(...stepDead);
    } catch (e) {
      if (classifyFailure(e) === 'transient') throw e;
      await tx.query('ROLLBACK TO SAVEPOINT eddy_record');
      // Through JSON, as a checkpoint read back from the database would be.
      job.restore(partition, state === null ? null : (JSON.parse(JSON.stringify(state)) as Json));
      dead.push({
        message: r.message,
        reason: `apply failed: ${(e as Error).message}`,
        siteId: job.siteOf?.(r.record),
      });
      console.error(
        `[${job.name}] ${r.message.topic}/${partition}@${r.message.offset} cannot be applied, dead-lettered: ${(e as Error).message}`,
      );
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
}
