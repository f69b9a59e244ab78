import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NIL_SITE } from '@/lib/collect/ledger';
import { writeCountryMmdb } from '../helpers/mmdb';
import { startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';

// The collect pipeline through the real endpoint: what each kind of request becomes on the
// events topic and in the ingestion ledger.

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';

let stack: Stack;
let pool: pg.Pool;
let limitedKey: string;
let limitedId: string;
let ledgerKey: string;
let ledgerId: string;

beforeAll(async () => {
  const geo = path.join(mkdtempSync(path.join(os.tmpdir(), 'eddy-geo-')), 'country.mmdb');
  // 8.8.8.0/24 is deliberately not the embedded database's US: the operator's file must win.
  writeFileSync(
    geo,
    writeCountryMmdb([
      { cidr: '81.2.69.0/24', country: 'GB' },
      { cidr: '8.8.8.0/24', country: 'SE' },
    ]),
  );
  stack = await startStack({
    bus: 'embedded',
    worker: false,
    label: 'pipeline',
    env: { TRUSTED_PROXY_HEADER: 'x-forwarded-for', TRUSTED_COUNTRY_HEADER: 'cf-ipcountry', GEOIP_DATABASE: geo },
  });
  pool = new pg.Pool({ connectionString: stack.db.url });
  pool.on('error', () => undefined);
  limitedKey = `s_limited_${randomUUID().slice(0, 8)}`;
  const team = await pool.query<{ team_id: string }>('SELECT team_id FROM sites WHERE id = $1', [stack.site.id]);
  limitedId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames, rate_limit_per_minute) VALUES (gen_random_uuid(), $1, 'Limited', 'l.test', $2, ARRAY['127.0.0.1'], 3) RETURNING id",
      [team.rows[0]!.team_id, limitedKey],
    )
  ).rows[0]!.id;
  // The ledger test books against its own site so other tests' counts cannot flush into it.
  ledgerKey = `s_ledger_${randomUUID().slice(0, 8)}`;
  ledgerId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames) VALUES (gen_random_uuid(), $1, 'Ledger', 'g.test', $2, ARRAY['127.0.0.1']) RETURNING id",
      [team.rows[0]!.team_id, ledgerKey],
    )
  ).rows[0]!.id;
});
afterAll(async () => {
  await pool?.end();
  await stack?.stop();
});

const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}/api/collect`, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: { 'content-type': 'text/plain', 'user-agent': CHROME, ...headers },
  });

async function recordsById(ids: string[]): Promise<Map<string, Record<string, unknown>>> {
  const r = await pool.query<{ r: Record<string, unknown> }>(
    `SELECT convert_from(value, 'UTF8')::jsonb AS r FROM bus_messages WHERE topic = $1 AND convert_from(value, 'UTF8')::jsonb->>'eventId' = ANY($2)`,
    [`${stack.namespace}events`, ids],
  );
  return new Map(r.rows.map((x) => [x.r.eventId as string, x.r]));
}

async function ledger(siteId: string) {
  const r = await pool.query('SELECT * FROM ingestion_ledger WHERE site_id = $1', [siteId]);
  const sum = (k: string) => r.rows.reduce((n, row) => n + Number(row[k]), 0);
  return { sum, rows: r.rows.length };
}

describe('collect pipeline', () => {
  it('enriches an event: path, referrer channel, UTM, click ids, device, browser, OS, country, props and engagement', async () => {
    const id = randomUUID();
    const eng = randomUUID();
    const res = await post(
      JSON.stringify([
        {
          s: stack.site.key,
          i: id,
          u: 'http://127.0.0.1/pricing?utm_source=news&utm_medium=email&utm_campaign=launch',
          r: 'https://mail.google.com/',
          p: { plan: 'pro', seats: 3 },
          w: 390,
        },
        { s: stack.site.key, i: eng, n: 'engagement', u: 'http://127.0.0.1/pricing', e: { v: 5200, d: 75 } },
      ]),
      { 'user-agent': IPHONE, 'x-forwarded-for': '81.2.69.142, 10.0.0.1' },
    );
    expect(res.status).toBe(202);
    const recs = await recordsById([id, eng]);
    expect(recs.get(id)).toMatchObject({
      name: 'pageview',
      path: '/pricing',
      hostname: '127.0.0.1',
      referrer: 'https://mail.google.com/',
      referrerHost: 'mail.google.com',
      channel: 'email',
      utm: { source: 'news', medium: 'email', campaign: 'launch' },
      props: { plan: 'pro', seats: 3 },
      device: 'mobile',
      browser: 'Mobile Safari',
      os: 'iOS',
      country: 'GB',
    });
    expect(recs.get(eng)).toMatchObject({ name: 'engagement', engagement: { visibleMs: 5200, scrollDepth: 75 } });
    expect(recs.get(id)!.visitorId).toBe(recs.get(eng)!.visitorId);
  });

  it("takes the country from the trusted CDN header, then the operator's database (not the embedded one), and the IP from the trusted proxy header", async () => {
    const a = randomUUID();
    const b = randomUUID();
    await post(JSON.stringify({ s: stack.site.key, i: a, u: 'http://127.0.0.1/' }), {
      'cf-ipcountry': 'FR',
      'x-forwarded-for': '81.2.69.142',
    });
    await post(JSON.stringify({ s: stack.site.key, i: b, u: 'http://127.0.0.1/' }), {
      'x-forwarded-for': '81.2.69.143',
    });
    const recs = await recordsById([a, b]);
    expect(recs.get(a)!.country).toBe('FR');
    expect(recs.get(b)!.country).toBe('GB');
    const c = randomUUID();
    await post(JSON.stringify({ s: stack.site.key, i: c, u: 'http://127.0.0.1/' }), { 'x-forwarded-for': '8.8.8.8' });
    expect((await recordsById([c])).get(c)!.country).toBe('SE'); // GEOIP_DATABASE replaces the embedded database
    // Different client IPs behind the proxy are different visitors.
    expect(recs.get(a)!.visitorId).not.toBe(recs.get(b)!.visitorId);
  });

  it('dates an event by its client-reported age, clamped, whatever the client clock says', async () => {
    const id = randomUUID();
    const before = Date.now();
    await post(JSON.stringify({ s: stack.site.key, i: id, u: 'http://127.0.0.1/', t: 1000, c: 61_000 }));
    const rec = (await recordsById([id])).get(id)!;
    expect(Number(rec.ts)).toBeGreaterThanOrEqual(before - 60_000 - 50);
    expect(Number(rec.ts)).toBeLessThanOrEqual(Date.now() - 60_000 + 50);
  });

  it('books every request in the ledger: received = accepted + every drop reason + malformed', async () => {
    const site = ledgerKey;
    const ok = () => JSON.stringify({ s: site, i: randomUUID(), u: 'http://127.0.0.1/x' });
    const before = await ledger(ledgerId);
    const beforeNil = await ledger(NIL_SITE);
    const statuses = await Promise.all([
      post(ok()),
      post(ok()),
      post(ok(), { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' }),
      post(ok(), { 'user-agent': '' }),
      post(JSON.stringify({ s: site, u: 'http://127.0.0.1/', r: 'https://semalt.com/' })),
      post(JSON.stringify({ s: site, u: 'https://not-allowed.example/' })),
      post(JSON.stringify({ s: site, u: 'not a url' })),
      post(JSON.stringify({ s: 'no-such-key', u: 'http://127.0.0.1/' })),
      post('{broken'),
    ]).then((rs) => rs.map((r) => r.status));
    expect(statuses).toEqual([202, 202, 202, 202, 202, 202, 400, 202, 400]);
    await eventually(
      async () => (await ledger(ledgerId)).sum('received') - before.sum('received') === 7,
      10_000,
      'ledger flushed',
    );
    await new Promise((r) => setTimeout(r, 1500)); // and nothing more arrives
    const after = await ledger(ledgerId);
    const d = (k: string) => after.sum(k) - before.sum(k);
    expect({
      received: d('received'),
      accepted: d('accepted'),
      bot: d('dropped_bot'),
      spam: d('dropped_spam'),
      hostname: d('dropped_hostname'),
      malformed: d('malformed'),
    }).toEqual({
      received: 7,
      accepted: 2,
      bot: 2,
      spam: 1,
      hostname: 1,
      malformed: 1,
    });
    await eventually(
      async () => (await ledger(NIL_SITE)).sum('received') - beforeNil.sum('received') >= 2,
      10_000,
      'unattributed ledger flushed',
    );
    const nil = await ledger(NIL_SITE);
    expect(nil.sum('dropped_unknown_site') - beforeNil.sum('dropped_unknown_site')).toBeGreaterThanOrEqual(1);
    expect(nil.sum('malformed') - beforeNil.sum('malformed')).toBeGreaterThanOrEqual(1);
    // The arithmetic holds on every row.
    const rows = await pool.query(
      'SELECT count(*)::int AS bad FROM ingestion_ledger WHERE received <> accepted + dropped_bot + dropped_spam + dropped_hostname + dropped_rate_limited + dropped_unknown_site + malformed',
    );
    expect(rows.rows[0].bad).toBe(0);
  });

  it('drops events over a site’s rate limit with a 202 and counts them', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await post(JSON.stringify({ s: limitedKey, i: randomUUID(), u: 'http://127.0.0.1/' }))).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202]);
    await eventually(async () => (await ledger(limitedId)).sum('received') === 5, 10_000, 'limited site ledger');
    const l = await ledger(limitedId);
    expect(l.sum('accepted')).toBe(3);
    expect(l.sum('dropped_rate_limited')).toBe(2);
  });

  it('accepts gzip bodies and refuses one that inflates past 64 KB', async () => {
    const id = randomUUID();
    const ok = await post(gzipSync(JSON.stringify({ s: stack.site.key, i: id, u: 'http://127.0.0.1/gz' })), {
      'content-encoding': 'gzip',
    });
    expect(ok.status).toBe(202);
    expect((await recordsById([id])).get(id)!.path).toBe('/gz');
    const bomb = gzipSync(Buffer.alloc(10_000_000, 32));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect((await post(bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
  });

  it('answers 400 for invalid UTF-8, deep or oversized props and oversized batches, never 500', async () => {
    const cases: (string | Buffer)[] = [
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      JSON.stringify({ s: stack.site.key, u: 'http://127.0.0.1/', p: { a: { b: { c: { d: 1 } } } } }),
      JSON.stringify({ s: stack.site.key, u: 'http://127.0.0.1/', p: { big: 'x'.repeat(300) } }),
      JSON.stringify({
        s: stack.site.key,
        u: 'http://127.0.0.1/',
        p: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, 1])),
      }),
      JSON.stringify(Array.from({ length: 26 }, () => ({ s: stack.site.key, u: 'http://127.0.0.1/' }))),
      JSON.stringify({ s: stack.site.key, u: 'http://127.0.0.1/', n: 'x'.repeat(121) }),
      JSON.stringify('just a string'),
      'null',
      JSON.stringify({ s: stack.site.key, u: 'http://127.0.0.1/', e: { v: -1, d: 500 } }),
    ];
    for (const body of cases) {
      const res = await post(body);
      expect(res.status, String(body).slice(0, 60)).toBe(400);
      const json = (await res.json()) as { error: { message: string } };
      expect(json.error.message.length).toBeGreaterThan(5);
    }
  });
});
