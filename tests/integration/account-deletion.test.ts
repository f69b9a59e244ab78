import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInvite, createInvite } from '@/lib/accounts/invites';
import { changeRole } from '@/lib/accounts/members';
import { deleteAccount, RECENT_SIGN_IN_MS } from '@/lib/accounts/delete-account';
import { deleteTeam } from '@/lib/accounts/delete-team';
import { signUp } from '@/lib/accounts/sign-up';
import { teamForMember } from '@/lib/auth/access';
import type { CurrentUser } from '@/lib/auth/current-user';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// Account self-deletion (issue 16): re-authentication (password, or a recent sign-in for an
// account without one), the last-owner rule, the user's solo teams deleted with their sites'
// data, and afterwards no row anywhere that names the user's id or email. Team deletion by an
// owner erases its sites.

let database: TestDatabase;
let raw: pg.Pool;
const PASSWORD = 'long enough password';

beforeAll(async () => {
  database = await freshDatabase('account_deletion');
  setEnv({ DATABASE_URL: database.url, AUTH_SECRET: 'x'.repeat(40) });
  raw = new pg.Pool({ connectionString: database.url });
  raw.on('error', () => undefined);
});
afterAll(async () => {
  await closeDb();
  await raw?.end();
  await database?.drop();
});

let ipN = 0;
async function user(): Promise<CurrentUser & { teamId: string }> {
  const email = `u-${randomUUID().slice(0, 8)}@example.test`;
  const { userId, teamId } = await signUp({ email, password: PASSWORD }, `10.1.0.${++ipN}`);
  return { id: userId, email, name: null, sessionVersion: 0, hasPassword: true, isOperator: false, teamId };
}

async function siteIn(teamId: string): Promise<string> {
  const id = (
    await raw.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames) VALUES (gen_random_uuid(), $1, 's', 's.test', $2, '{}') RETURNING id",
      [teamId, `k-${randomUUID()}`],
    )
  ).rows[0]!.id;
  await raw.query(
    "INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, pageviews) VALUES ($1, 'day', '2026-03-28', '', '', 0, 7)",
    [id],
  );
  await raw.query(
    "INSERT INTO events (event_id, site_id, visitor_id, name, url, ts, record) VALUES (gen_random_uuid(), $1, 'v', 'pageview', 'https://s.test/', '2026-03-28T10:00:00Z', '{}')",
    [id],
  );
  return id;
}

async function rowsMentioning(value: string): Promise<string[]> {
  const tables = await raw.query<{ relname: string }>(
    "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition",
  );
  const hits: string[] = [];
  for (const { relname: t } of tables.rows) {
    const r = await raw.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${t}" x WHERE lower(x::text) LIKE '%' || lower($1) || '%'`,
      [value],
    );
    if (r.rows[0]!.n > 0) hits.push(t);
  }
  return hits.sort();
}

describe('account deletion', () => {
  it('needs the password and the email typed again; wrong ones change nothing', async () => {
    const u = await user();
    await expect(deleteAccount(u, { password: 'wrong password', confirm: u.email }, '10.9.0.1')).rejects.toThrow(
      /password: is not correct/,
    );
    await expect(deleteAccount(u, { password: PASSWORD, confirm: 'someone@else.test' }, '10.9.0.1')).rejects.toThrow(
      /confirm: type your email/,
    );
    expect((await raw.query('SELECT 1 FROM users WHERE id = $1', [u.id])).rowCount).toBe(1);
  });

  it('an account without a password needs a sign-in from the last 10 minutes', async () => {
    const u = await user();
    await raw.query('UPDATE users SET password_hash = NULL WHERE id = $1', [u.id]);
    const oauth = { ...u, hasPassword: false };
    const now = Date.parse('2026-03-28T10:00:00Z');
    await expect(
      deleteAccount({ ...oauth, signedInAt: now - RECENT_SIGN_IN_MS - 1 }, { confirm: u.email }, '10.9.0.2', now),
    ).rejects.toThrow(/Sign in again/);
    await expect(deleteAccount(oauth, { confirm: u.email }, '10.9.0.2', now)).rejects.toThrow(/Sign in again/);
    await deleteAccount({ ...oauth, signedInAt: now - 60_000 }, { confirm: u.email }, '10.9.0.2', now);
    expect((await raw.query('SELECT 1 FROM users WHERE id = $1', [u.id])).rowCount).toBe(0);
  });

  it("the last owner of a team with other members must hand it over first; then nothing names the user, and the solo team's sites are erased", async () => {
    const owner = await user();
    const member = await user();
    const soloSite = await siteIn(owner.teamId);
    // A second team the owner shares with a member.
    const shared = (
      await raw.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'Shared') RETURNING id")
    ).rows[0]!.id;
    await raw.query("INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, 'owner')", [shared, owner.id]);
    const sharedTeam = await teamForMember(owner.id, shared, 'owner');
    await acceptInvite(member, (await createInvite(owner, sharedTeam, { role: 'viewer', anyoneWithLink: true })).token);
    const sharedSite = await siteIn(shared);
    await raw.query("INSERT INTO notifications (user_id, site_id, title, body) VALUES ($1, $2, 't', 'b')", [
      owner.id,
      sharedSite,
    ]);

    await expect(deleteAccount(owner, { password: PASSWORD, confirm: owner.email }, '10.9.0.3')).rejects.toThrow(
      /last owner of “Shared”/,
    );
    expect(await rowsMentioning(owner.id)).toContain('users');

    await changeRole(sharedTeam, member.id, 'owner');
    const r = await deleteAccount(owner, { password: PASSWORD, confirm: owner.email }, '10.9.0.3');
    expect(r.teamsDeleted).toBe(1);
    expect(await rowsMentioning(owner.id)).toEqual([]);
    expect(await rowsMentioning(owner.email)).toEqual([]);
    expect(await rowsMentioning(soloSite)).toEqual([]);
    expect((await raw.query('SELECT 1 FROM teams WHERE id = $1', [owner.teamId])).rowCount).toBe(0);
    // The shared team, its site and data stay with the new owner.
    expect((await raw.query('SELECT count(*)::int AS n FROM rollups WHERE site_id = $1', [sharedSite])).rows[0].n).toBe(
      1,
    );
    expect((await teamForMember(member.id, shared)).role).toBe('owner');
  });

  it('a team is deleted only by an owner typing its name, and its sites are erased', async () => {
    const owner = await user();
    const site = await siteIn(owner.teamId);
    const team = await teamForMember(owner.id, owner.teamId, 'owner');
    await expect(deleteTeam(team, 'not the name')).rejects.toThrow(/type the team/);
    await expect(deleteTeam({ ...team, role: 'admin' }, team.name)).rejects.toThrow(/Only owners/);
    const r = await deleteTeam(team, team.name);
    expect(r.sites).toBe(1);
    expect(await rowsMentioning(site)).toEqual([]);
    await expect(teamForMember(owner.id, owner.teamId)).rejects.toThrow(/not found/);
  });
});
