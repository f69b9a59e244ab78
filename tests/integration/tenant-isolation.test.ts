import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBus } from '@/lib/bus/embedded';
import type { SiteChanged } from '@/lib/live/publish';
import { startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { HttpSession, join } from './support/http-session';

// The tenant isolation matrix (../shared/guides/reliability.md) against a running Eddy: two
// tenants, A and B, each with a team, a site, a share link, an invite and a second member.
// A tries every id-taking route, list, socket join and share token on B's objects — ids in the
// path, the query and the body — and must see 404s and nothing of B's. Positive controls
// (B reading B, A reading A) make sure a 404 is isolation and not a broken route.

const PASSWORD = 'correct horse battery staple';
const FORGED = { 'x-middleware-subrequest': 'middleware:middleware:middleware:middleware:middleware' };

interface Tenant {
  http: HttpSession;
  email: string;
  userId: string;
  teamId: string;
  siteId: string;
  shareToken: string;
  shareLinkId: string;
  inviteId: string;
  apiKeyId: string;
  goalId: string;
  funnelId: string;
}

let stack: Stack;
let db: pg.Pool;
let A: Tenant;
let B: Tenant;

async function tenant(label: string, ip: string): Promise<Tenant> {
  const http = new HttpSession(stack.url, ip);
  const email = `${label}-${randomUUID().slice(0, 8)}@example.test`;
  await http.signUp(email, PASSWORD, label);
  const teams = await http.json<{ teams: { id: string }[] }>('/api/teams');
  const teamId = teams.body.teams[0]!.id;
  const site = await http.json<{ site: { id: string } }>('/api/sites', {
    method: 'POST',
    json: { teamId, name: `${label} site`, domain: `${label}.example` },
  });
  expect(site.status).toBe(201);
  const link = await http.json<{ link: { id: string; token: string } }>(`/api/sites/${site.body.site.id}/share-links`, {
    method: 'POST',
    json: { label: 'public' },
  });
  const invite = await http.json<{ invite: { id: string } }>(`/api/teams/${teamId}/invites`, {
    method: 'POST',
    json: { role: 'viewer', anyoneWithLink: true },
  });
  const key = await http.json<{ apiKey: { id: string } }>(`/api/sites/${site.body.site.id}/api-keys`, {
    method: 'POST',
    json: { label: 'server', scopes: ['events:write'] },
  });
  expect(key.status).toBe(201);
  const user = await db.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]);
  const goal = await http.json<{ goal: { id: string } }>(`/api/sites/${site.body.site.id}/goals`, {
    method: 'POST',
    json: { name: 'Signup', kind: 'event', eventName: 'Signup' },
  });
  expect(goal.status).toBe(200);
  const funnel = await http.json<{ funnel: { id: string } }>(`/api/sites/${site.body.site.id}/funnels`, {
    method: 'POST',
    json: {
      name: 'Buy',
      steps: [
        { kind: 'page', pathPattern: '/' },
        { kind: 'event', eventName: 'Signup' },
      ],
    },
  });
  expect(funnel.status).toBe(200);
  return {
    http,
    email,
    userId: user.rows[0]!.id,
    teamId,
    siteId: site.body.site.id,
    shareToken: link.body.link.token,
    shareLinkId: link.body.link.id,
    inviteId: invite.body.invite.id,
    goalId: goal.body.goal.id,
    funnelId: funnel.body.funnel.id,
    apiKeyId: key.body.apiKey.id,
  };
}

beforeAll(async () => {
  stack = await startStack({
    bus: 'embedded',
    worker: false,
    label: 'tenancy',
    env: { TRUSTED_PROXY_HEADER: 'x-forwarded-for' },
  });
  db = new pg.Pool({ connectionString: stack.db.url });
  db.on('error', () => undefined);
  A = await tenant('alice', '198.51.100.1');
  B = await tenant('bob', '198.51.100.2');
});

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

/** Every route that takes an id, as A aiming at B's objects (path ids), and the method to use. */
function routesOnB(): [string, string, unknown?][] {
  return [
    ['GET', `/api/sites/${B.siteId}`],
    ['PATCH', `/api/sites/${B.siteId}`, { name: 'pwned' }],
    ['DELETE', `/api/sites/${B.siteId}`, { confirm: 'bob.example' }],
    ['GET', `/api/sites/${B.siteId}/stats?range=7d`],
    ['GET', `/api/sites/${B.siteId}/stats?range=7d&page=/`],
    ['GET', `/api/sites/${B.siteId}/breakdown?range=30d&dimension=page`],
    ['GET', `/api/sites/${B.siteId}/export?range=30d&dimension=country`],
    ['GET', `/api/sites/${B.siteId}/peaks`],
    ['GET', `/api/sites/${B.siteId}/share-links`],
    ['POST', `/api/sites/${B.siteId}/share-links`, { label: 'mine now' }],
    ['DELETE', `/api/sites/${B.siteId}/share-links/${B.shareLinkId}`],
    // A's own site in the path, B's nested object id: still not found.
    ['DELETE', `/api/sites/${A.siteId}/share-links/${B.shareLinkId}`],
    ['GET', `/api/sites/${B.siteId}/server-requests?range=7d`],
    ['GET', `/api/sites/${B.siteId}/api-keys`],
    ['POST', `/api/sites/${B.siteId}/api-keys`, { label: 'mine now', scopes: ['stats:read'] }],
    ['DELETE', `/api/sites/${B.siteId}/api-keys/${B.apiKeyId}`],
    ['DELETE', `/api/sites/${A.siteId}/api-keys/${B.apiKeyId}`],
    // Issue 14: goals, funnels, insights, the snippet page's activity.
    ['GET', `/api/sites/${B.siteId}/goals`],
    ['POST', `/api/sites/${B.siteId}/goals`, { name: 'x', kind: 'event', eventName: 'x' }],
    ['DELETE', `/api/sites/${B.siteId}/goals/${B.goalId}`],
    ['DELETE', `/api/sites/${A.siteId}/goals/${B.goalId}`],
    ['GET', `/api/sites/${B.siteId}/funnels`],
    [
      'POST',
      `/api/sites/${B.siteId}/funnels`,
      {
        name: 'x',
        steps: [
          { kind: 'page', pathPattern: '/' },
          { kind: 'page', pathPattern: '/x' },
        ],
      },
    ],
    ['DELETE', `/api/sites/${B.siteId}/funnels/${B.funnelId}`],
    ['DELETE', `/api/sites/${A.siteId}/funnels/${B.funnelId}`],
    ['GET', `/api/sites/${B.siteId}/insights?kind=goals`],
    ['GET', `/api/sites/${B.siteId}/insights?kind=funnels`],
    ['GET', `/api/sites/${A.siteId}/insights?kind=goal_breakdown&goal=${B.goalId}`],
    ['GET', `/api/sites/${B.siteId}/insights/export?kind=event`],
    ['GET', `/api/sites/${B.siteId}/activity`],
    ['GET', `/api/teams/${B.teamId}`],
    ['PATCH', `/api/teams/${B.teamId}`, { name: 'pwned' }],
    // Issue 16: data ownership.
    ['DELETE', `/api/teams/${B.teamId}`, { confirm: 'bob' }],
    ['GET', `/api/sites/${B.siteId}/exports`],
    ['POST', `/api/sites/${B.siteId}/exports`, { kind: 'events', format: 'csv', from: '2026-01-01', to: '2026-01-31' }],
    ['GET', `/api/sites/${B.siteId}/exports/download?kind=events&format=ndjson&from=2026-01-01&to=2026-01-31`],
    ['GET', `/api/sites/${B.siteId}/imports`],
    ['POST', `/api/sites/${B.siteId}/imports?source=umami&filename=x.csv`, { not: 'a file' }],
    ['GET', `/api/teams/${B.teamId}/members`],
    ['PATCH', `/api/teams/${B.teamId}/members/${B.userId}`, { role: 'viewer' }],
    ['DELETE', `/api/teams/${B.teamId}/members/${B.userId}`],
    ['PATCH', `/api/teams/${A.teamId}/members/${B.userId}`, { role: 'owner' }],
    ['DELETE', `/api/teams/${A.teamId}/members/${B.userId}`],
    ['GET', `/api/teams/${B.teamId}/invites`],
    ['POST', `/api/teams/${B.teamId}/invites`, { role: 'owner' }],
    ['DELETE', `/api/teams/${B.teamId}/invites/${B.inviteId}`],
    ['DELETE', `/api/teams/${A.teamId}/invites/${B.inviteId}`],
  ];
}

describe('tenant isolation: A against B', () => {
  it('positive control: each tenant reads its own objects', async () => {
    for (const t of [A, B]) {
      expect((await t.http.json(`/api/sites/${t.siteId}`)).status).toBe(200);
      expect((await t.http.json(`/api/sites/${t.siteId}/stats?range=7d`)).status).toBe(200);
      expect((await t.http.json(`/api/sites/${t.siteId}/api-keys`)).status).toBe(200);
      expect((await t.http.json(`/api/sites/${t.siteId}/server-requests?range=7d`)).status).toBe(200);
      expect((await t.http.json(`/api/teams/${t.teamId}/members`)).status).toBe(200);
      expect((await t.http.json(`/api/teams/${t.teamId}/invites`)).status).toBe(200);
      expect((await t.http.json(`/api/sites/${t.siteId}/exports`)).status).toBe(200);
      expect((await t.http.json(`/api/sites/${t.siteId}/imports`)).status).toBe(200);
    }
    // Hostile parameters on one's own site: a 400 that says which, never a 500.
    const bad = await A.http.json<{ error: string }>(
      `/api/sites/${A.siteId}/exports/download?kind=events&format=xml&from=2026-13-01&to=x`,
    );
    expect(bad.status).toBe(400);
    const badImport = await A.http.json<{ error: string }>(
      `/api/sites/${A.siteId}/imports?source=matomo&filename=x.csv`,
      { method: 'POST', json: {} },
    );
    expect(badImport.status).toBe(400);
    const download = await A.http.fetch(
      `/api/sites/${A.siteId}/exports/download?kind=events&format=csv&from=2026-01-01&to=2026-01-31`,
    );
    expect(download.status).toBe(200);
    expect((await download.text()).split('\r\n')[0]).toMatch(/^event_id,timestamp,/);
  });

  it('every id-taking route answers 404 for B’s objects, with and without a forged x-middleware-subrequest', async () => {
    for (const headers of [{}, FORGED]) {
      for (const [method, path, json] of routesOnB()) {
        const r = await A.http.json(path, { method, json, headers });
        expect({ method, path, status: r.status }).toEqual({ method, path, status: 404 });
        expect(JSON.stringify(r.body)).not.toContain('bob.example');
      }
    }
  });

  it('hostile goal, funnel and insights input gets a 400 with a JSON error, never a 500', async () => {
    const bad: [string, string, unknown?][] = [
      ['POST', `/api/sites/${A.siteId}/goals`, { name: 'x', kind: 'page', pathPattern: `/${'*/'.repeat(9)}x` }],
      ['POST', `/api/sites/${A.siteId}/goals`, { name: 'x', kind: 'page', pathPattern: 'no-slash' }],
      ['POST', `/api/sites/${A.siteId}/goals`, { name: 'x', kind: 'regex', eventName: 'x' }],
      ['POST', `/api/sites/${A.siteId}/goals`, { name: 'x'.repeat(500), kind: 'event', eventName: 'x' }],
      ['POST', `/api/sites/${A.siteId}/funnels`, { name: 'x', steps: [{ kind: 'page', pathPattern: '/' }] }],
      [
        'POST',
        `/api/sites/${A.siteId}/funnels`,
        {
          name: 'x',
          windowMinutes: -5,
          steps: [
            { kind: 'page', pathPattern: '/' },
            { kind: 'page', pathPattern: '/a' },
          ],
        },
      ],
      ['GET', `/api/sites/${A.siteId}/insights?kind=bogus`],
      ['GET', `/api/sites/${A.siteId}/insights?kind=prop`],
      ['GET', `/api/sites/${A.siteId}/insights?kind=goal_breakdown&goal=not-a-uuid`],
      ['GET', `/api/sites/${A.siteId}/insights?kind=event&limit=100000`],
    ];
    for (const [method, path, json] of bad) {
      const r = await A.http.json<{ error?: { code: string } }>(path, { method, json });
      expect({ path, json, status: r.status, code: r.body.error?.code }).toEqual({
        path,
        json,
        status: 400,
        code: 'bad_request',
      });
    }
    // The goal of another site, through one's own site: not found, as for any nested id.
    expect((await A.http.json(`/api/sites/${A.siteId}/insights?kind=goal_breakdown&goal=${A.goalId}`)).status).toBe(
      200,
    );
    // Share pages get the same panels, read-only.
    const anon = new HttpSession(stack.url, '198.51.100.77');
    const goals = await anon.json<{ goals: { name: string }[] }>(`/api/share/${A.shareToken}/insights?kind=goals`);
    expect(goals.status).toBe(200);
    expect(goals.body.goals.map((g) => g.name)).toEqual(['Signup']);
    expect((await anon.json(`/api/share/${A.shareToken}/insights/export?kind=funnels`)).status).toBe(200);
    expect(
      (
        await anon.json(`/api/sites/${A.siteId}/goals`, {
          method: 'POST',
          json: { name: 'y', kind: 'event', eventName: 'y' },
        })
      ).status,
    ).toBe(401);
  });

  it('nothing of B’s changed after A’s attempts', async () => {
    const site = await B.http.json<{ site: { name: string; teamId: string } }>(`/api/sites/${B.siteId}`);
    expect(site.body.site.name).toBe('bob site');
    const links = await B.http.json<{ links: { id: string; label: string }[] }>(`/api/sites/${B.siteId}/share-links`);
    expect(links.body.links.map((l) => l.id)).toEqual([B.shareLinkId]);
    const keys = await B.http.json<{ apiKeys: { id: string; revokedAt: string | null }[] }>(
      `/api/sites/${B.siteId}/api-keys`,
    );
    expect(keys.body.apiKeys).toEqual([expect.objectContaining({ id: B.apiKeyId, revokedAt: null })]);
    const members = await B.http.json<{ members: { userId: string; role: string }[] }>(
      `/api/teams/${B.teamId}/members`,
    );
    expect(members.body.members).toEqual([expect.objectContaining({ userId: B.userId, role: 'owner' })]);
    const invites = await B.http.json<{ invites: { id: string }[] }>(`/api/teams/${B.teamId}/invites`);
    expect(invites.body.invites.map((i) => i.id)).toEqual([B.inviteId]);
    const team = await B.http.json<{ team: { name: string } }>(`/api/teams/${B.teamId}`);
    expect(team.body.team.name).not.toBe('pwned');
  });

  it('ids in the body and the query do not reach B', async () => {
    // Creating a site in B's team.
    const create = await A.http.json('/api/sites', {
      method: 'POST',
      json: { teamId: B.teamId, name: 'x', domain: 'x.example' },
    });
    expect(create.status).toBe(404);
    // An extra siteId in the query of A's own route is ignored: A's data comes back.
    const stats = await A.http.json<{ range: unknown }>(`/api/sites/${A.siteId}/stats?range=7d&siteId=${B.siteId}`);
    expect(stats.status).toBe(200);
    const bSites = await db.query('SELECT count(*)::int AS n FROM sites WHERE team_id = $1', [B.teamId]);
    expect(bSites.rows[0].n).toBe(1);
  });

  it('lists never include B’s rows', async () => {
    const sites = await A.http.json<{ sites: { id: string }[] }>('/api/sites');
    expect(sites.body.sites.map((s) => s.id)).toEqual([A.siteId]);
    const teams = await A.http.json<{ teams: { id: string }[] }>('/api/teams');
    expect(teams.body.teams.map((t) => t.id)).toEqual([A.teamId]);
    const page = await A.http.fetch('/sites');
    const html = await page.text();
    expect(html).toContain('alice site');
    expect(html).not.toContain('bob site');
  });

  it('pages of B’s site and team are 404 for A', async () => {
    for (const path of [
      `/sites/${B.siteId}`,
      `/sites/${B.siteId}/snippet`,
      `/sites/${B.siteId}/settings`,
      `/teams/${B.teamId}`,
    ]) {
      for (const headers of [{}, FORGED]) {
        const r = await A.http.fetch(path, { headers });
        expect({ path, status: r.status }).toEqual({ path, status: 404 });
      }
    }
  });

  it('extra fields in update bodies (team, key, owner) are ignored', async () => {
    const before = await db.query<{ team_id: string; public_key: string; rate_limit_per_minute: number }>(
      'SELECT team_id, public_key, rate_limit_per_minute FROM sites WHERE id = $1',
      [A.siteId],
    );
    const r = await A.http.json<{ site: { name: string } }>(`/api/sites/${A.siteId}`, {
      method: 'PATCH',
      json: {
        name: 'alice renamed',
        teamId: B.teamId,
        team_id: B.teamId,
        publicKey: 'stolen',
        id: B.siteId,
        rateLimitPerMinute: 1e9,
        owner: B.userId,
        role: 'owner',
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.site.name).toBe('alice renamed');
    const after = await db.query('SELECT team_id, public_key, rate_limit_per_minute FROM sites WHERE id = $1', [
      A.siteId,
    ]);
    expect(after.rows[0]).toEqual(before.rows[0]);
    // Sign-up ignores a smuggled session version or id.
    const c = new HttpSession(stack.url, '198.51.100.3');
    const email = `mallory-${randomUUID().slice(0, 8)}@example.test`;
    expect(
      (
        await c.json('/api/signup', {
          method: 'POST',
          json: { email, password: PASSWORD, sessionVersion: 99, id: B.userId },
        })
      ).status,
    ).toBe(201);
    const u = await db.query('SELECT id, session_version FROM users WHERE email = $1', [email]);
    expect(u.rows[0].id).not.toBe(B.userId);
    expect(u.rows[0].session_version).toBe(0);
    // Accepting an invite with a body naming another team or role changes nothing of that.
    expect(await c.signIn(email, PASSWORD)).toBe(true);
    const inv = await A.http.json<{ invite: { token: string } }>(`/api/teams/${A.teamId}/invites`, {
      method: 'POST',
      json: { role: 'viewer', anyoneWithLink: true, teamId: B.teamId },
    });
    const accepted = await c.json<{ team: { teamId: string } }>(`/api/invites/${inv.body.invite.token}`, {
      method: 'POST',
      json: { role: 'owner', teamId: B.teamId },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.team.teamId).toBe(A.teamId);
    const m = await db.query<{ team_id: string; role: string }>(
      'SELECT team_id, role FROM memberships WHERE user_id = $1',
      [u.rows[0].id],
    );
    expect(m.rows.find((r) => r.team_id === A.teamId)?.role).toBe('viewer');
    expect(m.rows.some((r) => r.team_id === B.teamId)).toBe(false);
    // Used up: a second accept is 404.
    expect((await c.json(`/api/invites/${inv.body.invite.token}`, { method: 'POST' })).status).toBe(404);
  });

  it('share tokens: A’s token shows only A’s site; a revoked or unknown token is 404', async () => {
    const anon = new HttpSession(stack.url, '198.51.100.4');
    const a = await anon.json<{ site: { name: string } }>(`/api/share/${A.shareToken}`);
    expect(a.status).toBe(200);
    expect(a.body.site.name).toBe('alice renamed');
    // A site id next to the token is not an input.
    const stats = await anon.json(`/api/share/${A.shareToken}/stats?range=7d&siteId=${B.siteId}`);
    expect(stats.status).toBe(200);
    // No share route takes a site id; member routes do not accept share tokens.
    expect((await anon.json(`/api/sites/${B.siteId}/stats?range=7d&share=${B.shareToken}`)).status).toBe(401);
    expect((await anon.json(`/api/share/${'x'.repeat(24)}/stats?range=7d`)).status).toBe(404);
    const page = await anon.fetch(`/share/${A.shareToken}`);
    expect(await page.text()).not.toContain('bob.example');
    // Revoke: the token stops working.
    const extra = await A.http.json<{ link: { id: string; token: string } }>(`/api/sites/${A.siteId}/share-links`, {
      method: 'POST',
      json: { label: 'temp' },
    });
    expect((await anon.json(`/api/share/${extra.body.link.token}/stats?range=today`)).status).toBe(200);
    expect(
      (await A.http.json(`/api/sites/${A.siteId}/share-links/${extra.body.link.id}`, { method: 'DELETE' })).status,
    ).toBe(200);
    expect((await anon.json(`/api/share/${extra.body.link.token}/stats?range=today`)).status).toBe(404);
  });

  it('a password-protected link needs its own unlock cookie; another link’s cookie does not open it', async () => {
    const anon = new HttpSession(stack.url, '198.51.100.5');
    const locked = await A.http.json<{ link: { id: string; token: string } }>(`/api/sites/${A.siteId}/share-links`, {
      method: 'POST',
      json: { label: 'locked', password: 'open sesame' },
    });
    const token = locked.body.link.token;
    expect((await anon.json(`/api/share/${token}/stats?range=7d`)).status).toBe(401);
    const lockedB = await B.http.json<{ link: { id: string; token: string } }>(`/api/sites/${B.siteId}/share-links`, {
      method: 'POST',
      json: { label: 'locked', password: 'bob secret' },
    });
    expect(
      (await anon.json(`/api/share/${lockedB.body.link.token}/unlock`, { method: 'POST', json: { password: 'wrong' } }))
        .status,
    ).toBe(401);
    expect(
      (await anon.json(`/api/share/${token}/unlock`, { method: 'POST', json: { password: 'open sesame' } })).status,
    ).toBe(200);
    expect((await anon.json(`/api/share/${token}/stats?range=7d`)).status).toBe(200);
    // The cookie for A's link, renamed to B's link's cookie name, does not open B's link.
    const aCookie = [...anon.cookies].find(([k]) => k.startsWith('eddy_share_'))!;
    anon.cookies.set(`eddy_share_${lockedB.body.link.id.replace(/-/g, '')}`, aCookie[1]);
    expect((await anon.json(`/api/share/${lockedB.body.link.token}/stats?range=7d`)).status).toBe(401);
  });

  it('cookie-authenticated changes from another origin, or with no Origin, are refused', async () => {
    for (const origin of ['https://evil.example', null]) {
      const r = await A.http.json(`/api/sites/${A.siteId}`, { method: 'PATCH', json: { name: 'csrf' }, origin });
      expect(r.status).toBe(403);
      const d = await A.http.json(`/api/sites/${A.siteId}/share-links`, { method: 'POST', json: {}, origin });
      expect(d.status).toBe(403);
    }
    const site = await A.http.json<{ site: { name: string } }>(`/api/sites/${A.siteId}`);
    expect(site.body.site.name).toBe('alice renamed');
  });

  it('signed out, every route is 401 (forged middleware header or not) and pages redirect to sign-in', async () => {
    const anon = new HttpSession(stack.url, '198.51.100.6');
    for (const headers of [{}, FORGED]) {
      for (const [method, path, json] of routesOnB()) {
        const r = await anon.json(path, { method, json, headers });
        expect({ path, status: r.status }).toEqual({ path, status: 401 });
      }
      const page = await anon.fetch(`/sites/${B.siteId}`, { headers });
      expect(page.status).toBeGreaterThanOrEqual(300);
      expect(page.status).toBeLessThan(400);
      expect(page.headers.get('location')).toContain('/login');
    }
  });
});

describe('tenant isolation: live sockets', () => {
  const open: Socket[] = [];
  afterAll(() => {
    for (const s of open) s.close();
  });
  const track = (s: Socket) => (open.push(s), s);

  async function notifyChanged(siteId: string): Promise<void> {
    const b = new EmbeddedBus(db, stack.db.url);
    await b
      .producer()
      .send(`${stack.namespace}live`, [
        { key: siteId, value: JSON.stringify({ type: 'changed', siteId, at: Date.now() } satisfies SiteChanged) },
      ]);
  }

  it('a join for B’s site is refused and receives nothing; B’s own socket does (control)', async () => {
    const aSock = track(await A.http.socket());
    const bSock = track(await B.http.socket());
    expect((await join(aSock, B.siteId)).ok).toBe(false);
    expect((await join(aSock, 'not-a-uuid')).ok).toBe(false);
    const bJoin = await join(bSock, B.siteId);
    expect(bJoin.ok).toBe(true);
    expect(bJoin.snapshot?.siteId).toBe(B.siteId);
    const aGot: unknown[] = [];
    const bGot: unknown[] = [];
    aSock.on('live', (s) => aGot.push(s));
    bSock.on('live', (s) => bGot.push(s));
    await notifyChanged(B.siteId);
    await eventually(() => bGot.length > 0, 15_000, 'B receives its own push');
    await new Promise((r) => setTimeout(r, 500));
    expect(aGot).toEqual([]);
  });

  it('an open dashboard gets a fresh snapshot with no event at all: its live windows age (current visitors fall to 0)', async () => {
    const sock = track(await B.http.socket());
    expect((await join(sock, B.siteId)).ok).toBe(true);
    const got: { siteId: string }[] = [];
    sock.on('live', (s: { siteId: string }) => got.push(s));
    // No event, no change notice: only the relay's idle re-push (IDLE_REPUSH_MS, 15 s) sends one.
    await eventually(() => got.length > 0, 25_000, 'an idle re-push');
    expect(got[0]!.siteId).toBe(B.siteId);
  });

  it('a share token joins only its own site', async () => {
    const anon = new HttpSession(stack.url, '198.51.100.7');
    const s = track(await anon.socket({ share: A.shareToken }));
    expect((await join(s, B.siteId)).ok).toBe(false);
    expect((await join(s, A.siteId)).ok).toBe(true);
    await expect(anon.socket({ share: 'y'.repeat(24) })).rejects.toThrow(/unauthorized/);
    await expect(anon.socket()).rejects.toThrow(/unauthorized/);
  });
});

describe('removal from a team revokes access', () => {
  it('A, invited into B’s team and then removed, loses HTTP access at once and the socket room within the sweep bound (5 s)', async () => {
    const inv = await B.http.json<{ invite: { token: string } }>(`/api/teams/${B.teamId}/invites`, {
      method: 'POST',
      json: { role: 'viewer', anyoneWithLink: true },
    });
    expect((await A.http.json(`/api/invites/${inv.body.invite.token}`, { method: 'POST' })).status).toBe(200);
    expect((await A.http.json(`/api/sites/${B.siteId}/stats?range=today`)).status).toBe(200);
    // A viewer reads but cannot change.
    expect((await A.http.json(`/api/sites/${B.siteId}`, { method: 'PATCH', json: { name: 'x' } })).status).toBe(403);
    expect((await A.http.json(`/api/sites/${B.siteId}/share-links`)).status).toBe(403);
    const sock = await A.http.socket();
    expect((await join(sock, B.siteId)).ok).toBe(true);
    const revoked = new Promise<number>((resolve) => sock.on('disconnect', () => resolve(Date.now())));

    const removedAt = Date.now();
    expect((await B.http.json(`/api/teams/${B.teamId}/members/${A.userId}`, { method: 'DELETE' })).status).toBe(200);
    // The session version moved: A's cookie is dead everywhere, immediately.
    expect((await A.http.json(`/api/sites/${A.siteId}`)).status).toBe(401);
    const gone = await Promise.race([revoked, new Promise<number>((r) => setTimeout(() => r(-1), 8000))]);
    sock.close();
    expect(gone).toBeGreaterThan(0);
    expect(gone - removedAt).toBeLessThanOrEqual(5000 + 1000);
    // Signed in again, A has its own site back and B's is 404 again.
    expect(await A.http.signIn(A.email, PASSWORD)).toBe(true);
    expect((await A.http.json(`/api/sites/${A.siteId}`)).status).toBe(200);
    expect((await A.http.json(`/api/sites/${B.siteId}`)).status).toBe(404);
  });

  it('a password change signs out every other session of that user', async () => {
    const other = new HttpSession(stack.url, '198.51.100.1');
    expect(await other.signIn(A.email, PASSWORD)).toBe(true);
    expect((await other.json('/api/sites')).status).toBe(200);
    const r = await A.http.json('/api/account/password', {
      method: 'POST',
      json: { currentPassword: PASSWORD, newPassword: `${PASSWORD}!` },
    });
    expect(r.status).toBe(200);
    expect((await other.json('/api/sites')).status).toBe(401);
    expect(await other.signIn(A.email, `${PASSWORD}!`)).toBe(true);
    expect((await other.json('/api/sites')).status).toBe(200);
    A.http = other;
  });
});

describe('sign-in rate limits (per account and per IP, in PostgreSQL)', () => {
  it('after 5 failures for an account even the right password fails, with the same generic answer', async () => {
    const owner = new HttpSession(stack.url, '192.0.2.10');
    const email = `victim-${randomUUID().slice(0, 8)}@example.test`;
    await owner.signUp(email, PASSWORD);
    const attacker = new HttpSession(stack.url, '192.0.2.11');
    for (let i = 0; i < 5; i++) expect(await attacker.signIn(email, `guess ${i}`)).toBe(false);
    // From a third IP, with the right password: refused while the account is throttled.
    const user = new HttpSession(stack.url, '192.0.2.12');
    const csrf = await user.json<{ csrfToken: string }>('/api/auth/csrf');
    const tryLogin = (password: string) =>
      user.json<{ url: string }>('/api/auth/callback/credentials', {
        method: 'POST',
        body: new URLSearchParams({ email, password, csrfToken: csrf.body.csrfToken, json: 'true' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    const throttled = await tryLogin(PASSWORD);
    const wrong = await tryLogin('definitely wrong');
    expect(throttled.status).toBe(401);
    expect(throttled).toEqual(wrong);
    expect([...user.cookies.keys()].some((k) => k.endsWith('session-token'))).toBe(false);
    // The attempts are rows in PostgreSQL, shared by every web process.
    const rows = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM auth_attempts WHERE kind = 'login' AND subject = $1 AND NOT succeeded",
      [email],
    );
    expect(rows.rows[0]!.n).toBeGreaterThanOrEqual(7);
  });

  it('after 20 failures from one IP, sign-in from that IP is refused; other IPs are unaffected', async () => {
    const email = `ipuser-${randomUUID().slice(0, 8)}@example.test`;
    await new HttpSession(stack.url, '192.0.2.20').signUp(email, PASSWORD);
    const noisy = new HttpSession(stack.url, '192.0.2.21');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new HttpSession(stack.url, '192.0.2.21').signIn(`nobody-${i}@example.test`, 'x'),
      ),
    );
    expect(await noisy.signIn(email, PASSWORD)).toBe(false);
    expect(await new HttpSession(stack.url, '192.0.2.22').signIn(email, PASSWORD)).toBe(true);
  });
});
