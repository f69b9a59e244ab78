import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInvite, createInvite, INVITE_TTL_MS, inviteByToken, listInvites } from '@/lib/accounts/invites';
import { changeRole, listMembers, removeMember } from '@/lib/accounts/members';
import { oauthSignIn } from '@/lib/accounts/oauth-sign-in';
import { signUp } from '@/lib/accounts/sign-up';
import { teamForMember } from '@/lib/auth/access';
import { ATTEMPT_LIMITS, beginAttempt } from '@/lib/auth/attempts';
import type { CurrentUser } from '@/lib/auth/current-user';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// Account rules below the HTTP layer, on a fresh database: OAuth sign-in never takes over a
// password account, team role rules, invitation lifetime, and that the attempt counter in
// PostgreSQL holds the limit under concurrency from separate connections (several web
// processes share it).

let database: TestDatabase;
let raw: pg.Pool;

beforeAll(async () => {
  database = await freshDatabase('accounts');
  setEnv({ DATABASE_URL: database.url, AUTH_SECRET: 'x'.repeat(40) });
  raw = new pg.Pool({ connectionString: database.url });
  raw.on('error', () => undefined);
});
afterAll(async () => {
  await closeDb();
  await raw?.end();
  await database?.drop();
});

async function user(email = `u-${randomUUID().slice(0, 8)}@example.test`): Promise<CurrentUser & { teamId: string }> {
  const { userId, teamId } = await signUp(
    { email, password: 'long enough password' },
    `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
  );
  return { id: userId, email, name: null, sessionVersion: 0, hasPassword: true, isOperator: false, teamId };
}

describe('OAuth sign-in', () => {
  it('creates a user with a personal team, then finds the same user by the provider identity', async () => {
    const first = await oauthSignIn({
      provider: 'github',
      providerAccountId: '4242',
      email: 'Octo@Example.test',
      name: 'Octo',
    });
    expect(first.ok).toBe(true);
    const again = await oauthSignIn({
      provider: 'github',
      providerAccountId: '4242',
      email: 'changed@example.test',
      name: 'Octo',
    });
    expect(again).toEqual(first);
    const u = await raw.query('SELECT email, password_hash FROM users WHERE id = $1', [first.ok && first.userId]);
    expect(u.rows[0]).toEqual({ email: 'octo@example.test', password_hash: null });
    const teams = await raw.query(
      'SELECT t.name, m.role FROM memberships m JOIN teams t ON t.id = m.team_id WHERE m.user_id = $1',
      [first.ok && first.userId],
    );
    expect(teams.rows).toEqual([{ name: "Octo's team", role: 'owner' }]);
  });

  it('refuses an identity whose email belongs to an existing account, and one without a verified email', async () => {
    const owner = await user();
    expect(
      await oauthSignIn({ provider: 'google', providerAccountId: 'g-1', email: owner.email.toUpperCase(), name: null }),
    ).toEqual({ ok: false, reason: 'email_taken' });
    expect(await oauthSignIn({ provider: 'google', providerAccountId: 'g-2', email: null, name: null })).toEqual({
      ok: false,
      reason: 'no_email',
    });
    const links = await raw.query("SELECT count(*)::int AS n FROM oauth_accounts WHERE provider = 'google'");
    expect(links.rows[0].n).toBe(0);
  });
});

describe('team roles', () => {
  it('admins manage viewers but not owners; a team keeps an owner; removal bumps the session version', async () => {
    const owner = await user();
    const admin = await user();
    const viewer = await user();
    const team = await teamForMember(owner.id, owner.teamId, 'owner');
    for (const [u, role] of [
      [admin, 'admin'],
      [viewer, 'viewer'],
    ] as const) {
      const inv = await createInvite(owner, team, { role, anyoneWithLink: true });
      await acceptInvite(u, inv.token);
    }
    const asAdmin = await teamForMember(admin.id, owner.teamId, 'admin');
    await expect(changeRole(asAdmin, owner.id, 'viewer')).rejects.toThrow(/Only owners/);
    await expect(changeRole(asAdmin, viewer.id, 'owner')).rejects.toThrow(/Only owners/);
    await expect(removeMember(admin, asAdmin, owner.id)).rejects.toThrow(/Only owners/);
    await expect(createInvite(admin, asAdmin, { role: 'owner', anyoneWithLink: true })).rejects.toThrow(/Only owners/);
    await changeRole(asAdmin, viewer.id, 'admin');
    await expect(changeRole(team, owner.id, 'admin')).rejects.toThrow(/at least one owner/);
    await expect(removeMember(owner, team, owner.id)).rejects.toThrow(/at least one owner/);
    const asViewer = await teamForMember(viewer.id, owner.teamId);
    await removeMember(viewer, asViewer, viewer.id); // leaving is always allowed
    const v = await raw.query('SELECT session_version FROM users WHERE id = $1', [viewer.id]);
    expect(v.rows[0].session_version).toBe(1);
    expect((await listMembers(team)).map((m) => [m.userId, m.role]).sort()).toEqual(
      [
        [owner.id, 'owner'],
        [admin.id, 'admin'],
      ].sort(),
    );
    await expect(teamForMember(viewer.id, owner.teamId)).rejects.toThrow(/not found/);
  });

  it('an invitation works once, keeps a stronger existing role, and expires after 7 days', async () => {
    const owner = await user();
    const team = await teamForMember(owner.id, owner.teamId, 'owner');
    const member = await user();
    const admin = await createInvite(owner, team, { role: 'admin', anyoneWithLink: true });
    await acceptInvite(member, admin.token);
    await expect(acceptInvite(member, admin.token)).rejects.toThrow(/not valid/);
    const weaker = await createInvite(owner, team, { role: 'viewer', anyoneWithLink: true });
    await acceptInvite(member, weaker.token);
    expect((await teamForMember(member.id, owner.teamId)).role).toBe('admin');
    const t0 = Date.now();
    const later = await createInvite(owner, team, { role: 'viewer', anyoneWithLink: true }, t0);
    expect((await inviteByToken(later.token, t0 + INVITE_TTL_MS - 1000)).teamId).toBe(owner.teamId);
    await expect(inviteByToken(later.token, t0 + INVITE_TTL_MS + 1)).rejects.toThrow(/not valid/);
    expect((await listInvites(team, t0 + INVITE_TTL_MS + 1)).map((i) => i.id)).not.toContain(later.id);
    // Only the hash is stored.
    const stored = await raw.query('SELECT token_hash FROM invites WHERE id = $1', [later.id]);
    expect(stored.rows[0].token_hash).not.toContain(later.token);
  });
});

describe('attempt limits in PostgreSQL', () => {
  it('concurrent failures from separate connections never let more than the limit through', async () => {
    const ip = '192.0.2.77';
    const email = `target-${randomUUID().slice(0, 8)}@example.test`;
    const results = await Promise.all(Array.from({ length: 40 }, () => beginAttempt('login', ip, email)));
    const allowed = results.filter((r) => r.allowed).length;
    // A burst may be refused entirely (every attempt is counted before any is judged): safe.
    expect(allowed).toBeLessThanOrEqual(ATTEMPT_LIMITS.login.perSubject!.max);
    const rows = await raw.query("SELECT count(*)::int AS n FROM auth_attempts WHERE kind = 'login' AND subject = $1", [
      email,
    ]);
    expect(rows.rows[0].n).toBe(40);
  });

  it('one at a time, exactly the limit passes', async () => {
    const email = `seq-${randomUUID().slice(0, 8)}@example.test`;
    const seen: boolean[] = [];
    for (let i = 0; i < 7; i++) seen.push((await beginAttempt('login', `192.0.2.${100 + i}`, email)).allowed);
    expect(seen).toEqual([true, true, true, true, true, false, false]);
  });

  it('sign-ups are limited per IP', async () => {
    const ip = '198.18.0.9';
    for (let i = 0; i < ATTEMPT_LIMITS.signup.perIp.max; i++)
      await signUp({ email: `s${i}-${randomUUID().slice(0, 6)}@example.test`, password: 'long enough password' }, ip);
    await expect(
      signUp({ email: `over-${randomUUID().slice(0, 6)}@example.test`, password: 'long enough password' }, ip),
    ).rejects.toThrow(/Too many sign-ups/);
  });
});
