import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticsPool, closeDb, db, pool } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// A terminated backend must never take the process down (docs/RELIABILITY.md, F6). pg emits
// 'error' on a checked-out client whose backend goes away, and Node exits when nobody listens:
// every connection of this process's pools listens from the moment it connects
// (guardedPool, lib/db/client.ts). Without the guard, the terminations below end this test
// file with an unhandled 'error' event, and the listener counts are 0.

let d: TestDatabase;
let admin: pg.Client;
beforeAll(async () => {
  d = await freshDatabase('connection_loss');
  setEnv({ DATABASE_URL: d.url });
  admin = new pg.Client({ connectionString: d.url });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await closeDb();
  await d?.drop();
});

const terminate = (pids: number[]) =>
  admin.query('SELECT count(pg_terminate_backend(p))::int AS n FROM unnest($1::int[]) AS p', [pids]);

/** Resolves when the client's socket has closed (pg emits 'end' after its 'error'). */
const ended = (c: pg.PoolClient) => new Promise<void>((resolve) => c.once('end', () => resolve()));

describe('connection loss', () => {
  for (const [name, get] of [
    ['pool()', pool],
    ['analyticsPool()', analyticsPool],
  ] as const) {
    it(`${name}: a checked-out client nobody listens to survives its backend's termination`, async () => {
      const c = await get().connect();
      // The guard, not a caller, listens.
      expect(c.listenerCount('error')).toBeGreaterThan(0);
      const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const closed = ended(c);
      // Between two queries (nothing in flight): the case that emitted 'error' with nobody listening.
      expect((await terminate([pid])).rows[0]!.n).toBe(1);
      await closed;
      await expect(c.query('SELECT 1')).rejects.toThrow();
      c.release();
      // The pool dropped the dead client and connects again.
      const again = await get().query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(again.rows[0]!.pid).not.toBe(pid);
    });
  }

  // Prisma's adapter listens on its own connections too; this checks that it still works on the
  // guarded pool it now runs on (an external pool: Prisma must not treat it as a config object).
  it('Prisma, on its guarded pool, fails the transaction whose backend is terminated and reconnects after', async () => {
    await db().$queryRaw`SELECT 1`;
    const prismaPids = (
      await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      )
    ).rows.map((r) => r.pid);
    expect(prismaPids.length).toBeGreaterThan(0);
    // Inside an interactive transaction: its connection is checked out while it is terminated.
    await expect(
      db().$transaction(async (tx) => {
        const [row] = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
        await terminate([row!.pid]);
        await new Promise((r) => setTimeout(r, 200));
        await tx.$queryRaw`SELECT 1`;
      }),
    ).rejects.toThrow();
    await terminate(prismaPids);
    await new Promise((r) => setTimeout(r, 200));
    const [row] = await db().$queryRaw<{ ok: number }[]>`SELECT 1 AS ok`;
    expect(row?.ok).toBe(1);
  });
});
