import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { HttpSession } from './support/http-session';

// The public API against a running Eddy (web + workers): API keys (scopes, revocation, other
// sites, rate limit), the events API on collect's pipeline, and the stats API, each endpoint
// compared with the dashboard's own routes for the same query.

const RATE = 40; // API_KEY_RATE_PER_MINUTE for this stack: small enough to reach, large enough for the rest
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

let stack: Stack;
let db: pg.Pool;
let owner: HttpSession;
let siteB: string;
const keys: Record<'events' | 'stats' | 'both' | 'limited' | 'revoked' | 'b', string> = {
  events: '',
  stats: '',
  both: '',
  limited: '',
  revoked: '',
  b: '',
};
let revokedId = '';

async function createKey(siteId: string, scopes: string[], label = 'test'): Promise<{ key: string; id: string }> {
  const r = await owner.json<{ key: string; apiKey: { id: string } }>(`/api/sites/${siteId}/api-keys`, {
    method: 'POST',
    json: { label, scopes },
  });
  expect(r.status).toBe(201);
  return { key: r.body.key, id: r.body.apiKey.id };
}

function call(
  path: string,
  key: string | null,
  init: { method?: string; json?: unknown; body?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${stack.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
  });
}

async function callJson<T = Record<string, unknown>>(
  path: string,
  key: string | null,
  init: Parameters<typeof call>[2] = {},
) {
  const res = await call(path, key, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

// A custom range around today in every time zone: the test does not depend on the hour it runs at.
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const RANGE = `range=custom&from=${day(-1)}&to=${day(1)}`;

const pageview = (ip: string, path: string, extra: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  name: 'pageview',
  url: `https://shop.test${path}`,
  ip,
  user_agent: CHROME,
  ...extra,
});
const request = (ip: string, path: string, status = 200) => ({
  id: randomUUID(),
  name: 'request',
  url: `https://shop.test${path}`,
  ip,
  user_agent: FIREFOX,
  request: { method: 'GET', status, duration_ms: 3.5 },
});

beforeAll(async () => {
  stack = await startStack({
    bus: 'embedded',
    label: 'public-api',
    env: { API_KEY_RATE_PER_MINUTE: String(RATE), TRUSTED_PROXY_HEADER: 'x-forwarded-for' },
  });
  db = new pg.Pool({ connectionString: stack.db.url });
  db.on('error', () => undefined);
  owner = new HttpSession(stack.url);
  expect(await owner.signIn(stack.user.email, stack.user.password)).toBe(true);
  const team = await db.query<{ team_id: string }>('SELECT team_id FROM sites WHERE id = $1', [stack.site.id]);
  const b = await owner.json<{ site: { id: string } }>('/api/sites', {
    method: 'POST',
    json: { teamId: team.rows[0]!.team_id, name: 'Other', domain: 'other.test' },
  });
  siteB = b.body.site.id;
  keys.events = (await createKey(stack.site.id, ['events:write'])).key;
  keys.stats = (await createKey(stack.site.id, ['stats:read'])).key;
  keys.both = (await createKey(stack.site.id, ['events:write', 'stats:read'])).key;
  keys.limited = (await createKey(stack.site.id, ['stats:read'], 'limited')).key;
  const revoked = await createKey(stack.site.id, ['stats:read'], 'to revoke');
  keys.revoked = revoked.key;
  revokedId = revoked.id;
  keys.b = (await createKey(siteB, ['events:write', 'stats:read'])).key;
});

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

describe('API keys', () => {
  it('are shown once: the list has prefixes, scopes and last use, never the key or its hash', async () => {
    const list = await owner.fetch(`/api/sites/${stack.site.id}/api-keys`);
    const text = await list.text();
    expect(list.status).toBe(200);
    expect(text).not.toContain(keys.events);
    expect(text).not.toContain('keyHash');
    const body = JSON.parse(text) as { apiKeys: { prefix: string; scopes: string[]; lastUsedAt: string | null }[] };
    expect(body.apiKeys.map((k) => k.prefix)).toContain(keys.events.slice(0, 9));
    const stored = await db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys');
    expect(stored.rows.some((r) => r.key_hash.includes(keys.events))).toBe(false);
    expect(stored.rows.every((r) => /^[0-9a-f]{64}$/.test(r.key_hash))).toBe(true);
  });

  it('record when they were last used', async () => {
    expect((await call(`/api/v1/stats/realtime?site_id=${stack.site.id}`, keys.stats)).status).toBe(200);
    const used = await eventually(
      async () =>
        (
          await db.query('SELECT 1 FROM api_keys WHERE prefix = $1 AND last_used_at IS NOT NULL', [
            keys.stats.slice(0, 9),
          ])
        ).rowCount,
      5000,
      'last_used_at written',
    );
    expect(used).toBe(1);
  });

  it('without a key, with an unknown one or with a revoked one: 401 with a JSON error', async () => {
    for (const key of [null, 'nonsense', `eddy_${'A'.repeat(43)}`]) {
      const r = await callJson<{ error: { code: string } }>(`/api/v1/stats/aggregate?site_id=${stack.site.id}`, key);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await call(`/api/v1/stats/aggregate?site_id=${stack.site.id}`, keys.revoked)).status).toBe(200); // a positive control
    const del = await owner.json(`/api/sites/${stack.site.id}/api-keys/${revokedId}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect((await callJson(`/api/v1/stats/aggregate?site_id=${stack.site.id}`, keys.revoked)).status).toBe(401);
    expect(
      (
        await callJson('/api/v1/events', keys.revoked, {
          method: 'POST',
          json: { events: [pageview('198.51.100.9', '/')] },
        })
      ).status,
    ).toBe(401);
  });

  it('without the scope: 403', async () => {
    expect((await callJson(`/api/v1/stats/aggregate?site_id=${stack.site.id}`, keys.events)).status).toBe(403);
    expect(
      (
        await callJson('/api/v1/events', keys.stats, {
          method: 'POST',
          json: { events: [pageview('198.51.100.9', '/')] },
        })
      ).status,
    ).toBe(403);
  });

  it("of another site: 404 for this site's data, on every endpoint", async () => {
    for (const p of ['aggregate', 'timeseries', 'breakdown', 'realtime']) {
      const r = await callJson<{ error: { code: string } }>(
        `/api/v1/stats/${p}?site_id=${stack.site.id}&dimension=page`,
        keys.b,
      );
      expect(r.status, p).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    const e = await callJson('/api/v1/events', keys.b, {
      method: 'POST',
      json: { site_id: stack.site.id, events: [pageview('198.51.100.9', '/')] },
    });
    expect(e.status).toBe(404);
    // Positive control: B's key on B's site.
    expect((await call(`/api/v1/stats/aggregate?site_id=${siteB}`, keys.b)).status).toBe(200);
  });

  it('are admin business: another site id in the path is 404, and a viewer is refused', async () => {
    const viewer = new HttpSession(stack.url, '198.51.100.77');
    const email = `viewer-${randomUUID().slice(0, 8)}@example.test`;
    await viewer.signUp(email, 'correct horse battery staple');
    const team = await db.query<{ team_id: string }>('SELECT team_id FROM sites WHERE id = $1', [stack.site.id]);
    const user = await db.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]);
    await db.query("INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, 'viewer')", [
      team.rows[0]!.team_id,
      user.rows[0]!.id,
    ]);
    expect((await viewer.json(`/api/sites/${stack.site.id}/api-keys`)).status).toBe(403);
    expect(
      (await viewer.json(`/api/sites/${stack.site.id}/api-keys`, { method: 'POST', json: { scopes: ['stats:read'] } }))
        .status,
    ).toBe(403);
  });

  it('are rate-limited per key: 429 with Retry-After, other keys unaffected', async () => {
    // Twice the budget at once: the bucket refills at RATE per minute, so however slow this
    // machine is, far more than RATE cannot all be let through in the few seconds this takes.
    const t0 = Date.now();
    const answers = await Promise.all(
      Array.from({ length: RATE * 2 }, () => call(`/api/v1/stats/realtime?site_id=${stack.site.id}`, keys.limited)),
    );
    const refill = Math.ceil((RATE * (Date.now() - t0)) / 60_000);
    const ok = answers.filter((r) => r.status === 200);
    const limited = answers.filter((r) => r.status === 429);
    expect(ok.length + limited.length).toBe(RATE * 2);
    expect(ok.length).toBeGreaterThanOrEqual(RATE);
    expect(ok.length).toBeLessThanOrEqual(RATE + refill);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited[0]!.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect((await call(`/api/v1/stats/realtime?site_id=${stack.site.id}`, keys.stats)).status).toBe(200);
  });
});

describe('events API', () => {
  it('refuses bad input with 400/413 naming the field, never 500', async () => {
    const cases: [unknown, RegExp][] = [
      [{ events: [] }, /events/],
      [{ events: [{ ...pageview('198.51.100.9', '/'), url: 'javascript:alert(1)' }] }, /events\.0\.url/],
      [{ events: [{ ...pageview('198.51.100.9', '/'), ip: 'not-an-ip' }] }, /events\.0\.ip/],
      [{ events: [{ ...pageview('198.51.100.9', '/'), name: 'request' }] }, /events\.0\.request/],
      [
        { events: [{ ...request('198.51.100.9', '/'), request: { method: 'GET', status: 99, duration_ms: 1 } }] },
        /events\.0\.request\.status/,
      ],
      [{ events: Array.from({ length: 26 }, () => pageview('198.51.100.9', '/')) }, /events/],
    ];
    for (const [body, field] of cases) {
      const r = await callJson<{ error: { code: string; message: string } }>('/api/v1/events', keys.events, {
        method: 'POST',
        json: body,
      });
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error.message).toMatch(field);
    }
    // A misspelt or repeated filter is refused, not answered for the whole site.
    for (const [query, field] of [
      ['countyr=US', /countyr: not a parameter/],
      ['country=US&country=DE', /country: given more than once/],
    ] as const) {
      for (const endpoint of ['aggregate', 'timeseries', 'breakdown']) {
        const r = await callJson<{ error: { message: string } }>(
          `/api/v1/stats/${endpoint}?site_id=${stack.site.id}${endpoint === 'breakdown' ? '&dimension=page' : ''}&${query}`,
          keys.stats,
        );
        expect(r.status, `${endpoint}?${query}`).toBe(400);
        expect(r.body.error.message).toMatch(field);
      }
    }
    expect(
      (
        await callJson('/api/v1/events', keys.events, {
          method: 'POST',
          body: '{not json',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await callJson('/api/v1/events', keys.events, {
          method: 'POST',
          body: 'x'.repeat(70_000),
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(413);
  });

  it('counts pageviews, custom events and server requests once each, retries included, and books them as API traffic', async () => {
    const visitors = ['198.51.100.21', '198.51.100.22', '198.51.100.23'];
    const batch = {
      site_id: stack.site.id,
      sent_at: Date.now(),
      events: [
        pageview(visitors[0]!, '/', { referrer: 'https://news.example/story' }),
        pageview(visitors[1]!, '/pricing'),
        pageview(visitors[2]!, '/pricing', { props: { plan: 'pro' } }),
        { ...pageview(visitors[0]!, '/pricing'), name: 'signup', props: { plan: 'pro', seats: 3 } },
        request('198.51.100.31', '/api/orders'),
        request('198.51.100.32', '/api/orders', 500),
        request(visitors[0]!, '/'),
        { ...pageview('198.51.100.40', '/'), user_agent: 'curl/8.5.0' },
      ],
    };
    const first = await callJson<{ accepted: number; dropped: Record<string, number> }>('/api/v1/events', keys.events, {
      method: 'POST',
      json: batch,
    });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ accepted: 7, dropped: { bot: 1 } });
    // The same batch again (a retry after a lost answer): the same ids, counted once.
    expect((await callJson('/api/v1/events', keys.events, { method: 'POST', json: batch })).status).toBe(202);

    const ids = batch.events.slice(0, 7).map((e) => e.id);
    await eventually(
      async () =>
        (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE event_id = ANY($1::uuid[])', [ids]))
          .rows[0]!.n === 7,
      30_000,
      'events stored',
    );
    const stored = await db.query<{
      event_id: string;
      visitor_id: string;
      name: string;
      record: { request?: unknown };
    }>('SELECT event_id, visitor_id, name, record FROM events WHERE site_id = $1', [stack.site.id]);
    expect(stored.rows.length).toBe(7);
    expect(stored.rows.filter((r) => r.record.request).length).toBe(3);
    // A server request is counted as a server request: rollups' event = "request", not a pageview.
    const rollups = await eventually(
      async () => {
        const r = await db.query<{ events: number; pageviews: number }>(
          "SELECT COALESCE(sum(events) FILTER (WHERE dimension = 'event' AND value = 'request'), 0)::int AS events, COALESCE(sum(pageviews) FILTER (WHERE dimension = ''), 0)::int AS pageviews FROM rollups WHERE site_id = $1 AND granularity = 'minute'",
          [stack.site.id],
        );
        return r.rows[0]!.events === 3 && r.rows[0]!.pageviews === 3 ? r.rows[0] : null;
      },
      30_000,
      'rollups',
    );
    expect(rollups).toEqual({ events: 3, pageviews: 3 });
    const ledger = await eventually(
      async () => {
        const r = await db.query<{ received: number; api: number; accepted: number; bot: number; malformed: number }>(
          'SELECT sum(received)::int AS received, sum(received_api)::int AS api, sum(accepted)::int AS accepted, sum(dropped_bot)::int AS bot, sum(malformed)::int AS malformed FROM ingestion_ledger WHERE site_id = $1',
          [stack.site.id],
        );
        return r.rows[0]!.api >= 23 ? r.rows[0] : null;
      },
      10_000,
      'ledger flushed',
    );
    // Both sends are booked (the workers, not collect, see the duplicates), every one as API
    // traffic, and so are the seven 400s of the test before (the 413 is refused unread).
    expect(ledger).toEqual({ api: 23, received: 23, accepted: 14, bot: 2, malformed: 7 });
  });

  it('derives the visitor id as the tracker does: the same person through browser and server is one visitor', async () => {
    const ip = '198.51.100.50';
    const tracker = await fetch(`${stack.url}/api/collect`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': CHROME, 'x-forwarded-for': ip },
      body: JSON.stringify({ s: stack.site.key, n: 'pageview', u: 'http://localhost/same-person', i: randomUUID() }),
    });
    expect(tracker.status).toBe(202);
    const api = pageview(ip, '/same-person-server');
    expect((await call('/api/v1/events', keys.events, { method: 'POST', json: { events: [api] } })).status).toBe(202);
    const rows = await eventually(
      async () => {
        const r = await db.query<{ visitor_id: string }>(
          "SELECT visitor_id FROM events WHERE site_id = $1 AND record->>'path' IN ('/same-person', '/same-person-server')",
          [stack.site.id],
        );
        return r.rows.length === 2 ? r.rows : null;
      },
      30_000,
      'both stored',
    );
    expect(rows[0]!.visitor_id).toBe(rows[1]!.visitor_id);
  });
});

describe('stats API equals the dashboard', () => {
  beforeAll(async () => {
    // Settle: the workers have applied everything sent above (sessions included).
    await eventually(
      async () => {
        const r = await db.query<{ n: number }>(
          "SELECT COALESCE(sum(sessions), 0)::int AS n FROM rollups WHERE site_id = $1 AND dimension = '' AND granularity = 'minute'",
          [stack.site.id],
        );
        return r.rows[0]!.n >= 4;
      },
      30_000,
      'sessions applied',
    );
  });

  const dashboard = async <T>(path: string) => {
    const r = await owner.json<T>(path);
    expect(r.status, path).toBe(200);
    return r.body;
  };

  for (const filter of ['', '&page=/pricing']) {
    it(`aggregate and timeseries${filter ? ' (filtered)' : ''}`, async () => {
      const dash = await dashboard<{
        summary: unknown;
        previous: unknown;
        series: {
          start: number;
          label: string;
          visitors: number;
          pageviews: number;
          sessions: number;
          future: boolean;
        }[];
        range: { timezone: string };
      }>(`/api/sites/${stack.site.id}/stats?${RANGE}${filter}`);
      const agg = await callJson<{
        results: unknown;
        previous: unknown;
        range: { timezone: string };
        server_requests: number;
      }>(`/api/v1/stats/aggregate?site_id=${stack.site.id}&${RANGE}${filter}`, keys.stats);
      expect(agg.status).toBe(200);
      const server = await dashboard<{
        total: number;
        byStatus: { value: string; requests: number }[];
        byPath: { value: string; requests: number }[];
      }>(`/api/sites/${stack.site.id}/server-requests?${RANGE}${filter}`);
      expect(agg.body.server_requests).toBe(server.total);
      expect(server).toMatchObject({
        total: 3,
        byStatus: [
          { value: '2xx', requests: 2 },
          { value: '5xx', requests: 1 },
        ],
        byPath: [
          { value: '/api/orders', requests: 2 },
          { value: '/', requests: 1 },
        ],
      });
      expect(agg.body.results).toEqual(dash.summary);
      expect(agg.body.previous).toEqual(dash.previous);
      expect(agg.body.range.timezone).toBe(dash.range.timezone);
      expect((agg.body.results as { pageviews: number }).pageviews).toBeGreaterThan(0);
      const ts = await callJson<{
        results: { start: string; label: string; visitors: number; pageviews: number; sessions: number }[];
      }>(`/api/v1/stats/timeseries?site_id=${stack.site.id}&${RANGE}${filter}`, keys.both);
      expect(ts.status).toBe(200);
      expect(ts.body.results).toEqual(
        dash.series
          .filter((p) => !p.future)
          .map((p) => ({
            start: new Date(p.start).toISOString(),
            label: p.label,
            visitors: p.visitors,
            pageviews: p.pageviews,
            sessions: p.sessions,
          })),
      );
    });
  }

  for (const [dimension, filter] of [
    ['page', ''],
    ['referrer', ''],
    ['entry_page', ''],
    ['browser', ''],
    ['page', '&browser=Chrome'],
  ] as const) {
    it(`breakdown by ${dimension}${filter ? ' (filtered)' : ''}, page by page`, async () => {
      const dash = await dashboard<{ rows: unknown[] }>(
        `/api/sites/${stack.site.id}/breakdown?${RANGE}&dimension=${dimension}&limit=100${filter}`,
      );
      expect(dash.rows.length).toBeGreaterThan(0);
      const pages: unknown[] = [];
      let offset: number | null = 0;
      while (offset !== null) {
        const r: { status: number; body: { results: unknown[]; next_offset: number | null } } = await callJson(
          `/api/v1/stats/breakdown?site_id=${stack.site.id}&${RANGE}&dimension=${dimension}&limit=1&offset=${offset}${filter}`,
          keys.stats,
        );
        expect(r.status).toBe(200);
        pages.push(...r.body.results);
        offset = r.body.next_offset;
      }
      // Visitors per row are HyperLogLog estimates at the dashboard's precision: exact at this size.
      expect(pages).toEqual(dash.rows);
    });
  }

  it('realtime: the current visitors, server requests not among them', async () => {
    const r = await callJson<{ visitors: number; pageviews_last_30_minutes: number }>(
      `/api/v1/stats/realtime?site_id=${stack.site.id}`,
      keys.stats,
    );
    expect(r.status).toBe(200);
    // Pageview visitors: three from the batch and the browser/server one; request-only senders are not visitors.
    expect(r.body.visitors).toBe(4);
    expect(r.body.pageviews_last_30_minutes).toBe(5);
  });

  it('serves its OpenAPI 3.1 document, generated from the schemas', async () => {
    const r = await callJson<{ openapi: string; paths: Record<string, unknown> }>('/api/v1/openapi.json', null);
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    expect(Object.keys(r.body.paths).sort()).toEqual([
      '/api/v1/events',
      '/api/v1/stats/aggregate',
      '/api/v1/stats/breakdown',
      '/api/v1/stats/realtime',
      '/api/v1/stats/timeseries',
    ]);
    expect(JSON.stringify(r.body.paths['/api/v1/stats/breakdown'])).toContain('"name":"offset"');
  });
});
