import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoAccount } from '@/lib/accounts/create-demo-account';
import { oauthSignIn } from '@/lib/accounts/oauth-sign-in';
import { signUp } from '@/lib/accounts/sign-up';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// "The first account of an install is its operator" (issue 13, item 10c), on empty databases,
// for every way an account comes to exist — and exactly one operator when the first sign-ups race.

let database: TestDatabase | undefined;
afterEach(async () => {
  await closeDb();
  await database?.drop();
  database = undefined;
});

async function emptyInstall(): Promise<pg.Pool> {
  database = await freshDatabase('operators');
  setEnv({ DATABASE_URL: database.url, AUTH_SECRET: 'x'.repeat(40) });
  const raw = new pg.Pool({ connectionString: database.url });
  raw.on('error', () => undefined);
  return raw;
}

const operators = async (raw: pg.Pool) =>
  (await raw.query<{ email: string }>('SELECT email FROM users WHERE is_operator ORDER BY email')).rows.map(
    (r) => r.email,
  );
const email = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;

describe('the first account is the operator', () => {
  it('by sign-up: the first, not the second', async () => {
    const raw = await emptyInstall();
    const a = email('first');
    await signUp({ email: a, password: 'long enough password' }, '10.0.0.1');
    await signUp({ email: email('second'), password: 'long enough password' }, '10.0.0.2');
    expect(await operators(raw)).toEqual([a]);
    await raw.end();
  });

  it('exactly one operator when eight first sign-ups race', async () => {
    const raw = await emptyInstall();
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        signUp({ email: email(`racer${i}`), password: 'long enough password' }, `10.0.1.${i}`),
      ),
    );
    expect((await raw.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(8);
    expect(await operators(raw)).toHaveLength(1);
    await raw.end();
  });

  it('by OAuth sign-in and by the demo account', async () => {
    const raw = await emptyInstall();
    await oauthSignIn({ provider: 'github', providerAccountId: '1', email: 'octo@example.test', name: 'Octo' });
    await signUp({ email: email('after'), password: 'long enough password' }, '10.0.0.3');
    expect(await operators(raw)).toEqual(['octo@example.test']);
    await raw.end();

    await closeDb();
    await database!.drop();
    const raw2 = await emptyInstall();
    const demo = await createDemoAccount();
    expect(demo).not.toBeNull();
    expect(await operators(raw2)).toEqual([demo!.email]);
    await raw2.end();
  });
});
