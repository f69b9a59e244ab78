import { readFile, writeFile } from 'node:fs/promises';
import type pg from 'pg';
import { z } from 'zod';
import { transaction } from '@/lib/db/transaction';
import { EddyError } from '@/lib/errors';

// Savepoints: every job's per-partition positions and checkpoint state (operator snapshots,
// watermarks, dimension version), exported on demand as versioned JSON that Eddy owns, and
// restorable into any database — the same one after an upgrade, or a fresh one. Offsets refer to
// the events topic they were taken from: restore into a cluster holding the same topic data
// (e.g. a mirror), or use a start mode instead.

export const SAVEPOINT_FORMAT = 'eddy-savepoint';
export const SAVEPOINT_VERSION = 1;

const savepointSchema = z.object({
  format: z.literal(SAVEPOINT_FORMAT),
  version: z.literal(SAVEPOINT_VERSION),
  createdAt: z.string(),
  progress: z.array(
    z.object({
      job: z.string(),
      topic: z.string(),
      partition: z.number().int(),
      nextOffset: z.string().regex(/^\d+$/),
      state: z.unknown(),
    }),
  ),
});
export type Savepoint = z.infer<typeof savepointSchema>;

export async function createSavepoint(db: pg.Pool, file: string): Promise<Savepoint> {
  // One snapshot-isolated read, so every job's rows are from the same moment.
  const r = await transaction(
    db,
    (client) =>
      client.query<{ job: string; topic: string; partition: number; next_offset: string; state: unknown }>(
        'SELECT job, topic, partition, next_offset::text AS next_offset, state FROM consumer_progress ORDER BY job, topic, partition',
      ),
    { isolation: 'repeatable read', readOnly: true },
  );
  const sp: Savepoint = {
    format: SAVEPOINT_FORMAT,
    version: SAVEPOINT_VERSION,
    createdAt: new Date().toISOString(),
    progress: r.rows.map((x) => ({
      job: x.job,
      topic: x.topic,
      partition: x.partition,
      nextOffset: x.next_offset,
      state: x.state,
    })),
  };
  await writeFile(file, JSON.stringify(sp, null, 1));
  return sp;
}

export async function restoreSavepoint(db: pg.Pool, file: string): Promise<Savepoint> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new EddyError('bad_request', `Cannot read savepoint ${file}: ${(e as Error).message}`);
  }
  const parsed = savepointSchema.safeParse(json);
  if (!parsed.success)
    throw new EddyError(
      'bad_request',
      `${file} is not an Eddy savepoint v${SAVEPOINT_VERSION}: ${parsed.error.issues[0]?.message}`,
    );
  const sp = parsed.data;
  await transaction(db, async (client) => {
    await client.query('DELETE FROM consumer_progress WHERE job = ANY($1)', [
      [...new Set(sp.progress.map((p) => p.job))],
    ]);
    for (const p of sp.progress) {
      // A version no worker's memory can hold (the milliseconds now, where versions count commits
      // from 0): a worker still running fences on it and restores the savepoint's state, instead
      // of taking a restored row at version 0 for the checkpoint it came from.
      await client.query(
        `INSERT INTO consumer_progress (job, topic, partition, next_offset, state, version)
         VALUES ($1, $2, $3, $4, $5, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)`,
        [
          p.job,
          p.topic,
          p.partition,
          p.nextOffset,
          p.state === undefined || p.state === null ? null : JSON.stringify(p.state),
        ],
      );
    }
  });
  return sp;
}
