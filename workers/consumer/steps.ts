import type pg from 'pg';
import type { BusMessage } from '@/lib/bus';
import type { DeadRecord } from './dead-letters';
import type { Job, JobBatchResult } from './job';
import type { Dropped, Outcome } from './outcome';

// The steps a record goes through between decode and the job's apply, inside the batch's
// transaction (dedup by event id, a deleted site's records): each step judges every record it is
// given, and only what it calls `ok` goes on. Steps say what happened; they book nothing — the
// caller books drops and dead letters once (batch.ts), so a step never has to know the ledger.

export interface Ready<T> {
  message: BusMessage;
  record: T;
}

export interface RecordStep<T> {
  name: string;
  /** One outcome per record, in the order given. (A method, so a Job<EventRecord> is a Job.) */
  judge(tx: pg.PoolClient, records: Ready<T>[]): Promise<Outcome<T>[]>;
}

export interface Applied {
  result: JobBatchResult;
  dropped: Dropped[];
  dead: DeadRecord[];
}

/** Runs the job's steps, then applies what is left: the one way records reach `job.apply` (runtime, isolate, replay, imports). */
export async function applyRecords<T>(
  job: Job<T>,
  tx: pg.PoolClient,
  partition: number,
  records: Ready<T>[],
): Promise<Applied> {
  const dropped: Dropped[] = [];
  const dead: DeadRecord[] = [];
  let live = records;
  for (const step of job.steps ?? []) {
    if (live.length === 0) break;
    const outcomes = await step.judge(tx, live);
    if (outcomes.length !== live.length)
      throw new Error(`[${job.name}] step ${step.name} judged ${outcomes.length} of ${live.length} records`);
    const next: Ready<T>[] = [];
    outcomes.forEach((o, i) => {
      const message = live[i]!.message;
      if (o.kind === 'ok') next.push({ message, record: o.record });
      else if (o.kind === 'drop') dropped.push({ message, reason: o.reason, siteId: o.siteId });
      else dead.push({ message, reason: o.reason, siteId: o.siteId });
    });
    live = next;
  }
  return { result: await job.apply(tx, partition, live), dropped, dead };
}
