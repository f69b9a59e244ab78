import type pg from 'pg';
import { transaction } from '@/lib/db/client';
import type { Json } from '@/lib/stream';

// The checkpointed transaction every batch and every tick of a job runs in: lock the partition's
// progress row (creating it for a first batch), let the work read it and write its output, then
// store the new position and checkpoint with `version + 1` — all in one PostgreSQL transaction, so
// output, position and state commit together or not at all. The row lock is the fence: a zombie
// that lost its partition and a member that took it over queue on the same row, and whoever comes
// second sees the first one's version (and, for a batch, its next offset) before doing anything.

export interface ProgressKey {
  job: string;
  topic: string;
  partition: number;
}

export interface ProgressRow {
  next_offset: string;
  version: string;
  state: Json | null;
}

/** What the work decided: store a new checkpoint (and, for a batch, a new position), or nothing. */
export type Work<W, S> = { write: W; state: Json | undefined; nextOffset?: string } | { skip: S };

export type Checkpointed<W, S> = { written: W; version: string; state: Json | null } | { skip: S | 'no-progress-row' };

export async function checkpointedTransaction<W, S>(
  p: pg.Pool,
  key: ProgressKey,
  opts: {
    create: boolean;
    /**
     * The checkpoint this process's memory came from (MemoryCheckpoints.known). When the stored
     * version is that one, its state is not read: it is the state this process wrote (or read) at
     * that version. The sessions job's checkpoint holds every open visit — ~100 KB per batch in
     * the 1,000 events/s benchmark (490 visitors), 3 MB draining a backlog, growing with a site's
     * visitors — and reading it back with every batch only to find it unchanged was most of the
     * bytes the worker received from PostgreSQL.
     */
    known?: { version: string; state: Json | null };
  },
  work: (tx: pg.PoolClient, row: ProgressRow) => Promise<Work<W, S>>,
): Promise<Checkpointed<W, S>> {
  return transaction(p, async (tx): Promise<Checkpointed<W, S>> => {
    const at = [key.job, key.topic, key.partition];
    const known = opts.known?.version ?? null;
    const lock = () =>
      tx.query<ProgressRow & { same: boolean }>(
        `SELECT next_offset::text AS next_offset, version::text AS version, (version::text = $4) IS TRUE AS same,
                CASE WHEN version::text = $4 THEN NULL ELSE state END AS state
           FROM consumer_progress WHERE job = $1 AND topic = $2 AND partition = $3 FOR UPDATE`,
        [...at, known],
      );
    let progress = await lock();
    // The row is created once, by a partition's first batch: not an INSERT with every batch (a
    // round trip each, on a machine where every statement waits for a core).
    if (!progress.rowCount && opts.create) {
      await tx.query(
        'INSERT INTO consumer_progress (job, topic, partition, next_offset) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING',
        at,
      );
      progress = await lock();
    }
    if (!progress.rowCount) return { skip: 'no-progress-row' };
    const { same, ...stored } = progress.rows[0]!;
    const row: ProgressRow = same ? { ...stored, state: opts.known!.state } : stored;
    const done = await work(tx, row);
    if ('skip' in done) return done;
    const state = done.state === undefined ? null : done.state;
    const written = await tx.query<{ version: string }>(
      `UPDATE consumer_progress SET next_offset = coalesce($4::bigint, next_offset), state = $5, version = version + 1, updated_at = now()
       WHERE job = $1 AND topic = $2 AND partition = $3 RETURNING version::text AS version`,
      [...at, done.nextOffset ?? null, state === null ? null : JSON.stringify(state)],
    );
    return { written: done.write, version: written.rows[0]!.version, state };
  });
}

/**
 * Which checkpoint this process's in-memory job state corresponds to, per partition. The runtime
 * records a checkpoint only after COMMIT (recording it inside the transaction would let a failed
 * COMMIT leave memory at a state the database never got, and the retried batch would count twice).
 */
export class MemoryCheckpoints {
  private readonly byPartition = new Map<number, { version: string; state: Json | null }>();

  constructor(private readonly job: { name: string; restore(partition: number, state: Json | null): void }) {}

  version(partition: number): string | undefined {
    return this.byPartition.get(partition)?.version;
  }

  /** The checkpoint memory came from, for checkpointedTransaction's `known` (none before assignment). */
  known(partition: number): { version: string; state: Json | null } | undefined {
    const k = this.byPartition.get(partition);
    return k && k.version !== 'none' ? k : undefined;
  }

  /** On assignment: restore the stored checkpoint ('none' when the partition was never applied). */
  assign(partition: number, row: { version: string; state: Json | null } | undefined): void {
    this.job.restore(partition, row?.state ?? null);
    this.byPartition.set(partition, { version: row?.version ?? 'none', state: row?.state ?? null });
  }

  /** Under the row lock: if the stored checkpoint is not the one memory came from, adopt it. */
  fence(partition: number, row: { version: string; state: Json | null }): void {
    const mine = this.byPartition.get(partition);
    if (mine?.version === row.version) return;
    if (mine && mine.version !== 'none')
      console.error(
        `[${this.job.name}] partition ${partition}: checkpoint moved on elsewhere (v${mine.version} → v${row.version}); restoring before applying`,
      );
    this.job.restore(partition, row.state);
    this.byPartition.set(partition, { version: row.version, state: row.state });
  }

  /** After COMMIT. */
  committed(partition: number, c: { version: string; state: Json | null }): void {
    this.byPartition.set(partition, { version: c.version, state: c.state });
  }

  /** After a failed transaction: memory ran ahead of the database; put it back. */
  rollback(partition: number): void {
    this.job.restore(partition, this.byPartition.get(partition)?.state ?? null);
  }
}
