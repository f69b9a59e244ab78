import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack';
import { HttpSession } from './support/http-session';

// Issue 13, items 9 and 10, against a running Eddy: sign-out revokes the session server-side,
// wrong current passwords are limited, invitations are bound to their address unless the
// inviter chose "anyone with the link", new passwords are refused past bcrypt's 72 bytes,
// per-account caps, security headers on pages/API/share/collect, and the pipeline page is for
// the install's first account only.

const PASSWORD = 'correct horse battery staple';

let stack: Stack;
let db: pg.Pool;
let ipCounter = 0;
/** Each session its own client IP (TRUSTED_PROXY_HEADER), so per-IP sign-up limits stay out of the way. */
const session = () => new HttpSession(stack.url, `198.51.100.${++ipCounter}`);

async function newUser(label: string, email = `${label}-${randomUUID().slice(0, 8)}@example.test`) {
  const http = session();
  await http.signUp(email, PASSWORD, label);
  const teams = await http.json<{ teams: { id: string }[] }>('/api/teams');
  return { http, email, teamId: teams.body.teams[0]!.id };
}

let first: Awaited<ReturnType<typeof newUser>>;

beforeAll(async () => {
  stack = await startStack({ bus: 'embedded', worker: false, label: 'account-security', env: { TRUSTED_PROXY_HEADER: 'x-forwarded-for' } });
  db = new pg.Pool({ connectionString: stack.db.url });
  db.on('error', () => undefined);
  // A fresh install: no accounts yet (the stack seeds one; remove it), so the first sign-up below
  // goes through the product's own "first account" path.
  await db.query('DELETE FROM users');
  first = await newUser('first');
});

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

describe('sign-out (item 9a)', () => {
  it('revokes the session server-side: a copy of the cookie gets 401 afterwards', async () => {
    const { http } = await newUser('leaver');
    const copy = new HttpSession(stack.url, '203.0.113.50');
    for (const [k, v] of http.cookies) copy.cookies.set(k, v);
    expect((await copy.json('/api/sites')).status).toBe(200); // control: the copy works before

    const csrf = await http.json<{ csrfToken: string }>('/api/auth/csrf');
    const out = await http.fetch('/api/auth/signout', {
      method: 'POST',
      body: new URLSearchParams({ csrfToken: csrf.body.csrfToken, json: 'true' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(out.status).toBeLessThan(400);

    expect((await copy.json('/api/sites')).status).toBe(401);
    const page = await copy.fetch('/sites'); // pages: back to sign-in
    expect([page.status >= 300 && page.status < 400, page.headers.get('location')]).toEqual([true, expect.stringContaining('/login')]);
  });

  it('a revoked cookie replayed at sign-out does not end the user’s next session', async () => {
    const { http, email } = await newUser('replay');
    const stale = new HttpSession(stack.url, '203.0.113.51');
    for (const [k, v] of http.cookies) stale.cookies.set(k, v);
    const csrf = await http.json<{ csrfToken: string }>('/api/auth/csrf');
    await http.fetch('/api/auth/signout', { method: 'POST', body: new URLSearchParams({ csrfToken: csrf.body.csrfToken, json: 'true' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

    const again = session();
    expect(await again.signIn(email, PASSWORD)).toBe(true);
    const staleCsrf = await stale.json<{ csrfToken: string }>('/api/auth/csrf');
    await stale.fetch('/api/auth/signout', { method: 'POST', body: new URLSearchParams({ csrfToken: staleCsrf.body.csrfToken, json: 'true' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect((await again.json('/api/sites')).status).toBe(200);
  });
});
