import { randomUUID } from 'node:crypto';
import bcrypt from 'bcryptjs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_LIMITS } from '@/lib/accounts/limits';
import { ATTEMPT_LIMITS } from '@/lib/auth/attempts';
import { startStack, type Stack } from '../helpers/stack';
import { HttpSession } from './support/http-session';

// Issue 13, items 9 and 10, against a running Eddy: sign-out revokes the session server-side,
// wrong current passwords are limited, invitations are bound to their address unless the
// inviter chose "anyone with the link", passwords are argon2id (every byte counts, up to 1024),
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
  stack = await startStack({
    bus: 'embedded',
    worker: false,
    label: 'account-security',
    env: { TRUSTED_PROXY_HEADER: 'x-forwarded-for' },
  });
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
    expect([page.status >= 300 && page.status < 400, page.headers.get('location')]).toEqual([
      true,
      expect.stringContaining('/login'),
    ]);
  });

  it('a revoked cookie replayed at sign-out does not end the user’s next session', async () => {
    const { http, email } = await newUser('replay');
    const stale = new HttpSession(stack.url, '203.0.113.51');
    for (const [k, v] of http.cookies) stale.cookies.set(k, v);
    const csrf = await http.json<{ csrfToken: string }>('/api/auth/csrf');
    await http.fetch('/api/auth/signout', {
      method: 'POST',
      body: new URLSearchParams({ csrfToken: csrf.body.csrfToken, json: 'true' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect((await stale.json('/api/sites')).status).toBe(401);

    const again = session();
    expect(await again.signIn(email, PASSWORD)).toBe(true);
    const staleCsrf = await stale.json<{ csrfToken: string }>('/api/auth/csrf');
    await stale.fetch('/api/auth/signout', {
      method: 'POST',
      body: new URLSearchParams({ csrfToken: staleCsrf.body.csrfToken, json: 'true' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect((await again.json('/api/sites')).status).toBe(200);
  });
});

describe('change password (item 9b)', () => {
  it(`after ${ATTEMPT_LIMITS.password.perSubject!.max} wrong current passwords: 429 with Retry-After, even for the right one`, async () => {
    const { http, email } = await newUser('guessed');
    const max = ATTEMPT_LIMITS.password.perSubject!.max;
    for (let i = 0; i < max; i++) {
      const r = await http.json<{ error: { message: string } }>('/api/account/password', {
        method: 'POST',
        json: { currentPassword: `guess ${i}`, newPassword: 'a new long password' },
      });
      expect({ i, status: r.status, message: r.body.error.message }).toEqual({
        i,
        status: 400,
        message: 'currentPassword: is not correct',
      });
    }
    const blocked = await http.fetch('/api/account/password', {
      method: 'POST',
      json: { currentPassword: PASSWORD, newPassword: 'a new long password' },
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(60);
    // The guesses came from a session of this user; another IP does not reset the account's count.
    const elsewhere = new HttpSession(stack.url, '203.0.113.52');
    for (const [k, v] of http.cookies) elsewhere.cookies.set(k, v);
    expect(
      (
        await elsewhere.json('/api/account/password', {
          method: 'POST',
          json: { currentPassword: PASSWORD, newPassword: 'a new long password' },
        })
      ).status,
    ).toBe(429);
    // Nothing changed: the old password still signs in.
    expect(
      (await db.query('SELECT session_version FROM users WHERE email = $1', [email])).rows[0].session_version,
    ).toBe(0);
  });

  it('the right current password within the limit changes it and clears the failures: the count starts again', async () => {
    const { http, email } = await newUser('changer');
    const max = ATTEMPT_LIMITS.password.perSubject!.max;
    const change = (s: HttpSession, currentPassword: string, newPassword = 'another long password') =>
      s.json('/api/account/password', { method: 'POST', json: { currentPassword, newPassword } });
    for (let i = 0; i < max - 1; i++) expect((await change(http, `wrong ${i}`)).status).toBe(400);
    expect((await change(http, PASSWORD, 'a new long password')).status).toBe(200);
    const again = session(); // the change ended every session, this one included
    expect(await again.signIn(email, 'a new long password')).toBe(true);
    for (let i = 0; i < max; i++)
      expect({ i, status: (await change(again, `wrong again ${i}`)).status }).toEqual({ i, status: 400 });
    expect((await change(again, 'a new long password')).status).toBe(429);
  });
});

describe('passwords (item 9d; argon2id since issue 19): every byte counts, up to 1024', () => {
  const base = 'p'.repeat(72);

  it('two passwords that differ only after byte 72 are different passwords', async () => {
    const email = `long-${randomUUID().slice(0, 8)}@example.test`;
    expect(
      (await session().json('/api/signup', { method: 'POST', json: { email, password: `${base}X` } })).status,
    ).toBe(201);
    expect(await session().signIn(email, `${base}Y`)).toBe(false);
    expect(await session().signIn(email, `${base}X`)).toBe(true);
  });

  it('the limit is 1024 bytes of UTF-8: 513 "é" is refused with a clear 400, 512 signs up and signs in', async () => {
    const email = `accent-${randomUUID().slice(0, 8)}@example.test`;
    const r = await session().json<{ error: { message: string } }>('/api/signup', {
      method: 'POST',
      json: { email, password: 'é'.repeat(513) },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/^password: must be at most 1024 bytes in UTF-8/);
    expect(
      (await session().json('/api/signup', { method: 'POST', json: { email, password: 'é'.repeat(512) } })).status,
    ).toBe(201);
    expect(await session().signIn(email, 'é'.repeat(512))).toBe(true);
    expect(await session().signIn(email, 'é'.repeat(511))).toBe(false);
  });

  it('change-password and share-link passwords have the same limit', async () => {
    const { http, teamId } = await newUser('bytes');
    const tooLong = 'p'.repeat(1025);
    const r = await http.json<{ error: { message: string } }>('/api/account/password', {
      method: 'POST',
      json: { currentPassword: PASSWORD, newPassword: tooLong },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/^newPassword: must be at most 1024 bytes/);
    const site = await http.json<{ site: { id: string } }>('/api/sites', {
      method: 'POST',
      json: { teamId, name: 'bytes site', domain: 'bytes.example' },
    });
    const link = await http.json<{ error: { message: string } }>(`/api/sites/${site.body.site.id}/share-links`, {
      method: 'POST',
      json: { label: 'x', password: tooLong },
    });
    expect(link.status).toBe(400);
    expect(link.body.error.message).toMatch(/^password: must be at most 1024 bytes/);
  });

  it('a user whose stored hash is bcrypt signs in, the hash becomes argon2id, and the password still signs in', async () => {
    const { email } = await newUser('legacy');
    // What every account created before argon2id holds: bcrypt, cost 12 (bcryptjs, as Eddy used).
    const legacy = await bcrypt.hash(PASSWORD, 12);
    await db.query('UPDATE users SET password_hash = $1 WHERE email = $2', [legacy, email]);
    expect(await session().signIn(email, 'not the password')).toBe(false);
    expect((await db.query('SELECT password_hash FROM users WHERE email = $1', [email])).rows[0].password_hash).toBe(
      legacy,
    );

    expect(await session().signIn(email, PASSWORD)).toBe(true);
    const upgraded: string = (await db.query('SELECT password_hash FROM users WHERE email = $1', [email])).rows[0]
      .password_hash;
    expect(upgraded).toMatch(/^\$argon2id\$/);
    expect(await session().signIn(email, PASSWORD)).toBe(true);
    expect(await session().signIn(email, 'not the password')).toBe(false);
    expect((await db.query('SELECT password_hash FROM users WHERE email = $1', [email])).rows[0].password_hash).toBe(
      upgraded,
    );
  });
});

describe('invitations (item 9c)', () => {
  it('an invite addressed to one email cannot be accepted by another account (403, not used up); its addressee can', async () => {
    const owner = await newUser('inviter');
    const inviteeEmail = `Invitee-${randomUUID().slice(0, 8)}@Example.test`;
    const inv = await owner.http.json<{ invite: { token: string; anyoneWithLink: boolean } }>(
      `/api/teams/${owner.teamId}/invites`,
      { method: 'POST', json: { role: 'viewer', email: inviteeEmail } },
    );
    expect(inv.status).toBe(201);
    expect(inv.body.invite.anyoneWithLink).toBe(false);
    const token = inv.body.invite.token;

    const other = await newUser('interloper');
    const refused = await other.http.json<{ error: { code: string; message: string } }>(`/api/invites/${token}`, {
      method: 'POST',
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/This invitation is for i•••@example\.test.*signed in as interloper-/);
    expect(refused.body.error.message).not.toContain(inviteeEmail.toLowerCase());
    expect(
      (await owner.http.json<{ members: unknown[] }>(`/api/teams/${owner.teamId}/members`)).body.members,
    ).toHaveLength(1);
    // The invite page tells the wrong account why, instead of offering the button.
    const page = await (await other.http.fetch(`/invite/${token}`)).text();
    expect(page).toContain('This invitation is for i•••@example.test');
    expect(page).not.toContain('Join team');

    // The addressee (address typed in another case) accepts; the link is then used up.
    const invitee = await newUser('invitee', inviteeEmail.toLowerCase());
    const accepted = await invitee.http.json<{ team: { teamId: string } }>(`/api/invites/${token}`, { method: 'POST' });
    expect(accepted.status).toBe(200);
    expect(accepted.body.team.teamId).toBe(owner.teamId);
  });

  it('"anyone with the link" is an explicit, stored choice; without it an invite needs an address', async () => {
    const owner = await newUser('linker');
    const bare = await owner.http.json<{ error: { message: string } }>(`/api/teams/${owner.teamId}/invites`, {
      method: 'POST',
      json: { role: 'viewer' },
    });
    expect(bare.status).toBe(400);
    expect(bare.body.error.message).toMatch(/^email: is required unless anyoneWithLink is true/);

    const open = await owner.http.json<{ invite: { id: string; token: string; anyoneWithLink: boolean } }>(
      `/api/teams/${owner.teamId}/invites`,
      { method: 'POST', json: { role: 'viewer', anyoneWithLink: true } },
    );
    expect(open.status).toBe(201);
    const stored = await db.query('SELECT email, anyone_with_link FROM invites WHERE id = $1', [open.body.invite.id]);
    expect(stored.rows[0]).toEqual({ email: null, anyone_with_link: true });
    const listed = await owner.http.json<{ invites: { id: string; anyoneWithLink: boolean }[] }>(
      `/api/teams/${owner.teamId}/invites`,
    );
    expect(listed.body.invites.find((i) => i.id === open.body.invite.id)?.anyoneWithLink).toBe(true);
    const anyone = await newUser('anyone');
    expect((await anyone.http.json(`/api/invites/${open.body.invite.token}`, { method: 'POST' })).status).toBe(200);
  });
});

describe('per-account caps (item 10a)', () => {
  const createSite = (u: Awaited<ReturnType<typeof newUser>>, i: number) =>
    u.http.json<{ error?: { code: string; message: string } }>('/api/sites', {
      method: 'POST',
      json: { teamId: u.teamId, name: `site ${i}`, domain: `s${i}.example` },
    });

  it(`a team holds at most ${ACCOUNT_LIMITS.sitesPerTeam} sites, also when the last ones are created concurrently`, async () => {
    const u = await newUser('sites');
    const max = ACCOUNT_LIMITS.sitesPerTeam;
    for (let i = 0; i < max - 1; i++) expect((await createSite(u, i)).status).toBe(201);
    const racing = await Promise.all(Array.from({ length: 5 }, (_, k) => createSite(u, 1000 + k)));
    expect(racing.map((r) => r.status).sort()).toEqual([201, 403, 403, 403, 403]);
    const over = racing.find((r) => r.status === 403)!;
    expect(over.body.error).toEqual({
      code: 'limit_reached',
      message: `A team can have at most ${max} sites; delete one first`,
    });
    expect((await db.query('SELECT count(*)::int AS n FROM sites WHERE team_id = $1', [u.teamId])).rows[0].n).toBe(max);
  });

  it(`a user owns at most ${ACCOUNT_LIMITS.teamsOwnedPerUser} teams (the personal team counts)`, async () => {
    const u = await newUser('teams');
    for (let i = 1; i < ACCOUNT_LIMITS.teamsOwnedPerUser; i++)
      expect((await u.http.json('/api/teams', { method: 'POST', json: { name: `team ${i}` } })).status).toBe(201);
    const over = await u.http.json<{ error: { code: string; message: string } }>('/api/teams', {
      method: 'POST',
      json: { name: 'one too many' },
    });
    expect(over.status).toBe(403);
    expect(over.body.error.code).toBe('limit_reached');
    expect(over.body.error.message).toBe(
      `You can own at most ${ACCOUNT_LIMITS.teamsOwnedPerUser} teams; delete or hand over one first`,
    );
  });

  it(`a site has at most ${ACCOUNT_LIMITS.shareLinksPerSite} share links; revoking one makes room`, async () => {
    const u = await newUser('links');
    const site = await createSite(u, 1);
    const siteId = (site.body as unknown as { site: { id: string } }).site.id;
    const ids: string[] = [];
    for (let i = 0; i < ACCOUNT_LIMITS.shareLinksPerSite; i++) {
      const r = await u.http.json<{ link: { id: string } }>(`/api/sites/${siteId}/share-links`, {
        method: 'POST',
        json: { label: `l${i}` },
      });
      expect(r.status).toBe(201);
      ids.push(r.body.link.id);
    }
    const over = await u.http.json<{ error?: { code: string } }>(`/api/sites/${siteId}/share-links`, {
      method: 'POST',
      json: { label: 'over' },
    });
    expect([over.status, over.body.error?.code]).toEqual([403, 'limit_reached']);
    expect((await u.http.json(`/api/sites/${siteId}/share-links/${ids[0]}`, { method: 'DELETE' })).status).toBe(200);
    expect(
      (await u.http.json(`/api/sites/${siteId}/share-links`, { method: 'POST', json: { label: 'room again' } })).status,
    ).toBe(201);
  });

  it(`a team has at most ${ACCOUNT_LIMITS.pendingInvitesPerTeam} pending invitations`, async () => {
    const u = await newUser('invites');
    for (let i = 0; i < ACCOUNT_LIMITS.pendingInvitesPerTeam; i++) {
      expect(
        (
          await u.http.json(`/api/teams/${u.teamId}/invites`, {
            method: 'POST',
            json: { role: 'viewer', email: `p${i}@example.test` },
          })
        ).status,
      ).toBe(201);
    }
    const over = await u.http.json<{ error?: { code: string } }>(`/api/teams/${u.teamId}/invites`, {
      method: 'POST',
      json: { role: 'viewer', anyoneWithLink: true },
    });
    expect([over.status, over.body.error?.code]).toEqual([403, 'limit_reached']);
  });
});

describe('security headers (item 10b)', () => {
  function expectSecurityHeaders(res: Response, what: string) {
    const csp = res.headers.get('content-security-policy') ?? '';
    expect({
      what,
      frameAncestors: /frame-ancestors 'none'/.test(csp),
      scriptSrc: /script-src 'self'/.test(csp),
      objectSrc: /object-src 'none'/.test(csp),
    }).toEqual({
      what,
      frameAncestors: true,
      scriptSrc: true,
      objectSrc: true,
    });
    expect({
      what,
      nosniff: res.headers.get('x-content-type-options'),
      referrer: res.headers.get('referrer-policy'),
      xfo: res.headers.get('x-frame-options'),
    }).toEqual({
      what,
      nosniff: 'nosniff',
      referrer: 'strict-origin-when-cross-origin',
      xfo: 'DENY',
    });
  }

  it('on pages, API routes (also errors), share pages and their API', async () => {
    const site = await first.http.json<{ site: { id: string } }>('/api/sites', {
      method: 'POST',
      json: { teamId: first.teamId, name: 'headers', domain: 'headers.example' },
    });
    const link = await first.http.json<{ link: { token: string } }>(`/api/sites/${site.body.site.id}/share-links`, {
      method: 'POST',
      json: { label: 'public' },
    });
    const anon = session();
    const cases: [string, Response][] = [
      ['login page', await anon.fetch('/login')],
      ['dashboard page', await first.http.fetch(`/sites/${site.body.site.id}`)],
      ['API 200', await first.http.fetch('/api/sites')],
      ['API 401', await anon.fetch('/api/sites')],
      ['share page', await anon.fetch(`/share/${link.body.link.token}`)],
      ['share API', await anon.fetch(`/api/share/${link.body.link.token}/stats?range=7d`)],
      ['unknown page (404)', await anon.fetch('/no-such-page')],
      ['tracker script', await anon.fetch('/t.js')],
    ];
    for (const [what, res] of cases) {
      expect({ what, ok: res.status < 500 }).toEqual({ what, ok: true });
      expectSecurityHeaders(res, what);
    }
  });

  it('on the collect endpoint, with its CORS intact (preflight and POST from another origin)', async () => {
    const preflight = await fetch(`${stack.url}/api/collect`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://customer.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expectSecurityHeaders(preflight, 'collect preflight');
    const post = await fetch(`${stack.url}/api/collect`, {
      method: 'POST',
      headers: { origin: 'https://customer.example', 'content-type': 'text/plain' },
      body: JSON.stringify({ s: 'nope', u: 'https://customer.example/' }),
    });
    expect(post.status).toBeLessThan(500);
    expect(post.headers.get('access-control-allow-origin')).toBe('*');
    expectSecurityHeaders(post, 'collect POST');
  });
});

describe('pipeline page (item 10c): operators only', () => {
  it('the install’s first account is the operator; a later account gets 404 on the page and the API', async () => {
    expect((await first.http.fetch('/pipeline')).status).toBe(200);
    expect((await first.http.fetch('/api/pipeline')).status).toBe(200);

    const later = await newUser('later');
    expect((await later.http.fetch('/pipeline')).status).toBe(404);
    const api = await later.http.json<{ error?: { code: string } }>('/api/pipeline');
    expect([api.status, api.body.error?.code]).toEqual([404, 'not_found']);
    const flags = await db.query<{ email: string }>('SELECT email FROM users WHERE is_operator');
    expect(flags.rows.map((r) => r.email)).toEqual([first.email]);
    // The nav does not offer the link either.
    expect(await (await later.http.fetch('/sites')).text()).not.toMatch(/href="\/pipeline"/);
    expect(await (await first.http.fetch('/sites')).text()).toMatch(/href="\/pipeline"/);
  });
});
