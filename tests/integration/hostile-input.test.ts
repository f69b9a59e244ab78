import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';

// Hostile input through the real collect endpoint and the real worker process (issue 13): every
// string collect accepts is stored and counted — NUL, lone surrogates, RTL overrides, the longest
// URLs, the most properties — without a worker restart or a dead letter; and one client address
// or visitor flooding a site cannot spend the budget its real visitors need.

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

let stack: Stack;
let pool: pg.Pool;
let limited: { id: string; key: string };

beforeAll(async () => {
  stack = await startStack({
    bus: 'embedded',
    label: 'hostile',
    env: {
      TRUSTED_PROXY_HEADER: 'x-forwarded-for',
      COLLECT_IP_RATE_PER_MINUTE: '30',
      COLLECT_VISITOR_RATE_PER_MINUTE: '20',
    },
  });
  pool = new pg.Pool({ connectionString: stack.db.url });
  pool.on('error', () => undefined);
  const team = (await pool.query<{ team_id: string }>('SELECT team_id FROM sites WHERE id = $1', [stack.site.id]))
    .rows[0]!.team_id;
  const key = `s_flood_${randomUUID().slice(0, 8)}`;
  const id = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames, rate_limit_per_minute) VALUES (gen_random_uuid(), $1, 'Flooded', 'f.test', $2, ARRAY['localhost'], 60) RETURNING id",
      [team, key],
    )
  ).rows[0]!.id;
  limited = { id, key };
});
afterAll(async () => {
  await pool?.end();
  await stack?.stop();
});

/** Posts raw body text, so escapes like \u0000 and lone \ud800 reach the server as a client wrote them. */
const post = (body: string, ip: string, ua = CHROME) =>
  fetch(`${stack.url}/api/collect`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'text/plain', 'user-agent': ua, 'x-forwarded-for': ip },
  });

describe('hostile input', () => {
  it(
    'stores and counts NUL, lone surrogates, RTL marks, 2000-character URLs and maximum properties, with no dead letter and no worker restart',
    { timeout: 120_000 },
    async () => {
      const k = stack.site.key;
      const ids = Array.from({ length: 6 }, () => randomUUID());
      const wideProps = Object.fromEntries(
        Array.from({ length: 30 }, (_, i) => [
          `${String(i).padStart(2, '0')}${'ключ'.repeat(7)}`.slice(0, 30),
          'é'.repeat(128),
        ]),
      );
      const bodies = [
        // NUL in the event name, a property key and value, the URL path and a UTM value decoded from it.
        `{"s":"${k}","i":"${ids[0]}","n":"sign\\u0000up","u":"http://localhost/a\\u0000b?utm_source=%00x","p":{"k\\u0000":"v\\u0000"}}`,
        // Lone surrogates, high and low, where a truncating client would leave them.
        `{"s":"${k}","i":"${ids[1]}","n":"\\ud800","u":"http://localhost/s","p":{"\\udc00":"x\\ud83d"}}`,
        // A right-to-left override in the path and a property.
        `{"s":"${k}","i":"${ids[2]}","u":"http://localhost/\\u202egnp.exe","p":{"file":"\\u202efdp.exe"}}`,
        // 2000 characters of URL whose percent-encoded path is six times longer.
        JSON.stringify({ s: k, i: ids[3], u: `http://localhost/${'é'.repeat(1983)}` }),
        // The most properties, each key and value at its byte limit.
        JSON.stringify({ s: k, i: ids[4], n: 'Signup', u: 'http://localhost/signup', p: wideProps }),
        // And an ordinary pageview behind them all.
        JSON.stringify({ s: k, i: ids[5], u: 'http://localhost/after' }),
      ];
      for (const [i, body] of bodies.entries()) {
        const res = await post(body, `203.0.113.${i + 1}`);
        expect(res.status, body.slice(0, 80)).toBe(202);
      }
      await eventually(
        async () =>
          (await pool.query('SELECT count(*)::int AS n FROM events WHERE event_id = ANY($1)', [ids])).rows[0].n ===
          ids.length,
        60_000,
        'every hostile event archived',
      );
      const rows = new Map(
        (
          await pool.query<{ event_id: string; name: string; record: Record<string, unknown> }>(
            'SELECT event_id, name, record FROM events WHERE event_id = ANY($1)',
            [ids],
          )
        ).rows.map((r) => [r.event_id, r]),
      );
      expect(rows.get(ids[0]!)!.name).toBe('sign\ufffdup');
      expect(rows.get(ids[0]!)!.record.props).toEqual({ 'k\ufffd': 'v\ufffd' });
      expect(rows.get(ids[0]!)!.record.utm).toEqual({ source: '\ufffdx' });
      expect(rows.get(ids[1]!)!.name).toBe('\ufffd');
      expect(rows.get(ids[1]!)!.record.props).toEqual({ '\ufffd': 'x\ufffd' });
      expect((rows.get(ids[3]!)!.record.path as string).length).toBe(2000);
      expect(Object.keys(rows.get(ids[4]!)!.record.props as object)).toHaveLength(30);
      // Counted, live: the three pageviews and three custom events are in the minute rollups.
      await eventually(
        async () => {
          const r = (
            await pool.query<{ p: number; e: number }>(
              "SELECT COALESCE(sum(pageviews), 0)::int AS p, COALESCE(sum(events), 0)::int AS e FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = ''",
              [stack.site.id],
            )
          ).rows[0]!;
          return r.p === 3 && r.e === 3;
        },
        30_000,
        'three pageviews and three custom events in the minute rollups',
      );
      expect((await pool.query('SELECT count(*)::int AS n FROM dead_letters')).rows[0].n).toBe(0);
      expect(stack.worker!.exitCode).toBeNull();
    },
  );

  it('refuses a URL whose host is longer than DNS allows with a 400 naming the field', async () => {
    const res = await post(
      JSON.stringify({ s: stack.site.key, u: `http://${'a'.repeat(250)}.example/` }),
      '203.0.113.50',
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /^Invalid field u:.*host name of at most 253/,
    );
  });

  it(
    "drops a flood from one address or one visitor without spending the budget of the site's other visitors",
    { timeout: 60_000 },
    async () => {
      const k = limited.key;
      // Batches: every event of one request is judged at the same instant, so no token refills
      // between them and the counts are exact (between requests the buckets refill a little).
      const batch = (n: number, path: string) =>
        JSON.stringify(Array.from({ length: n }, () => ({ s: k, i: randomUUID(), u: `http://localhost${path}` })));
      const ua = (n: number) => CHROME.replace('156.0.0.0', `156.0.0.${n}`);
      // One address, two visitors of 20 events each: the address's budget (30) cuts the second short.
      expect((await post(batch(20, '/flood'), '198.51.100.7', ua(1))).status).toBe(202);
      expect((await post(batch(20, '/flood'), '198.51.100.7', ua(2))).status).toBe(202);
      // One visitor sending 25 at once: its budget is 20. Then another visitor from that address.
      expect((await post(batch(25, '/chatty'), '198.51.100.8', ua(3))).status).toBe(202);
      expect((await post(batch(1, '/neighbour'), '198.51.100.8', ua(4))).status).toBe(202);
      // A real visitor elsewhere: the site's budget (60) has room, because refused events never spent it
      // (it did not: 40 + 25 + 1 events would have emptied it first).
      const real = randomUUID();
      expect(
        (await post(JSON.stringify({ s: k, i: real, u: 'http://localhost/real' }), '192.0.2.33', ua(5))).status,
      ).toBe(202);
      await eventually(
        async () => (await pool.query('SELECT 1 FROM events WHERE event_id = $1', [real])).rowCount === 1,
        30_000,
        "the real visitor's event archived",
      );
      const ledger = async () =>
        (
          await pool.query<{ a: number; r: number }>(
            'SELECT COALESCE(sum(accepted), 0)::int AS a, COALESCE(sum(dropped_rate_limited), 0)::int AS r FROM ingestion_ledger WHERE site_id = $1',
            [limited.id],
          )
        ).rows[0]!;
      await eventually(async () => (await ledger()).a + (await ledger()).r === 67, 20_000, 'all 67 events booked');
      const l = await ledger();
      // Address: 30 of 40 (a token or two more if the requests were seconds apart); visitor: exactly 20 of 25.
      expect(l.r).toBeGreaterThanOrEqual(5 + 8);
      expect(l.r).toBeLessThanOrEqual(5 + 10);
      expect(l.a).toBe(67 - l.r);
    },
  );
});
