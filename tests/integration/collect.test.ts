import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBus } from '@/lib/bus/embedded';
import { env } from '@/lib/env';
import { ensureKafka, type KafkaHandle } from '../../scripts/services/kafka';
import { freePort, startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';

// The collect endpoint from the outside, against a running Eddy: bad input gets a clear 4xx and
// leaves nothing behind; dropped events look accepted; 2xx only once the bus has the event.

export const CHROME_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

const post = (stack: Stack, body: string, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}/api/collect`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'text/plain', 'user-agent': CHROME_UA, ...headers },
  });

describe('collect endpoint input handling', () => {
  let stack: Stack;
  let pool: pg.Pool;
  let busOfStack: EmbeddedBus;
  beforeAll(async () => {
    stack = await startStack({ bus: 'embedded', worker: false, label: 'collect' });
    pool = new pg.Pool({ connectionString: stack.db.url });
    pool.on('error', () => undefined);
    busOfStack = new EmbeddedBus(pool, stack.db.url);
  });
  afterAll(async () => {
    await pool?.end();
    await stack?.stop();
  });
  const produced = async () =>
    (await busOfStack.topicOffsets(`${stack.namespace}events`)).reduce((n, p) => n + Number(p.high), 0);

  it('accepts a valid pageview with 202 and CORS headers, only after it is on the bus', async () => {
    const before = await produced();
    const res = await post(
      stack,
      JSON.stringify({ s: stack.site.key, u: 'http://127.0.0.1/pricing', i: randomUUID() }),
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await produced()).toBe(before + 1);
  });

  it.each([
    ['invalid JSON', '{"s":', /not valid JSON/],
    ['a relative URL', JSON.stringify({ s: 'k', u: '/pricing' }), /Invalid field u/],
    [
      'a URL over 2000 characters',
      JSON.stringify({ s: 'k', u: `http://a.test/${'x'.repeat(2000)}` }),
      /Invalid field u/,
    ],
    ['a non-UUID event id', JSON.stringify({ s: 'k', u: 'http://a.test/', i: 'abc' }), /Invalid field i/],
    ['a wrong type', JSON.stringify({ s: 42, u: 'http://a.test/' }), /Invalid field s/],
  ])('answers 400 with a reason for %s and produces nothing', async (_what, body, reason) => {
    const before = await produced();
    const res = await post(stack, body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe('bad_request');
    expect(json.error.message).toMatch(reason);
    expect(await produced()).toBe(before);
  });

  it('answers 413 for a body over 64 KB without reading it all', async () => {
    const res = await post(
      stack,
      JSON.stringify({ s: stack.site.key, u: 'http://127.0.0.1/', pad: 'x'.repeat(70_000) }),
    );
    expect(res.status).toBe(413);
  });

  it('answers 415 for a compressed body it does not support', async () => {
    const res = await post(stack, 'xx', { 'content-encoding': 'br' });
    expect(res.status).toBe(415);
  });

  it.each([
    ['an unknown site key', () => ({ s: 'no-such-site', u: 'http://127.0.0.1/' })],
    ['a hostname the site does not allow', () => ({ s: stack.site.key, u: 'https://evil.example/' })],
  ])('drops %s with a 202 (bots learn nothing) and produces nothing', async (_what, payload) => {
    const before = await produced();
    const res = await post(stack, JSON.stringify(payload()));
    expect(res.status).toBe(202);
    expect(await produced()).toBe(before);
  });

  it('ignores an IP or user agent smuggled in the payload', async () => {
    const ids = [randomUUID(), randomUUID()];
    const send = (i: string, extra: object) =>
      post(stack, JSON.stringify({ s: stack.site.key, u: 'http://127.0.0.1/', i, ...extra }), {
        'user-agent': `${CHROME_UA} UA-1`,
      });
    expect((await send(ids[0]!, { ip: '1.2.3.4', userAgent: 'spoofed' })).status).toBe(202);
    expect((await send(ids[1]!, { ip: '5.6.7.8', userAgent: 'other' })).status).toBe(202);
    const r = await pool.query<{ record: Record<string, unknown> }>(
      `SELECT convert_from(value, 'UTF8')::jsonb AS record FROM bus_messages WHERE topic = $1 AND convert_from(value, 'UTF8')::jsonb->>'eventId' = ANY($2)`,
      [`${stack.namespace}events`, ids],
    );
    expect(r.rows).toHaveLength(2);
    const [a, b] = r.rows.map((x) => x.record);
    // Same connection, same real user agent → same visitor, whatever the payload claims.
    expect(a!.visitorId).toBe(b!.visitorId);
    for (const rec of [a!, b!]) {
      expect(rec).not.toHaveProperty('ip');
      expect(rec).not.toHaveProperty('userAgent');
    }
  });
});

describe('collect endpoint while the bus is down', () => {
  let kafka: KafkaHandle;
  let port: number;
  let stack: Stack;
  beforeAll(async () => {
    port = await freePort();
    kafka = await ensureKafka({
      version: env().KAFKA_VERSION,
      port,
      dataDir: env().EDDY_DATA_DIR,
      name: `outage-${port}`,
    });
    // Supervised like `npm start`: a broker that stays away past kafkajs' retries (a slow restart on
    // a busy machine) makes the worker exit on purpose, and production restarts it.
    stack = await startStack({
      bus: 'kafka',
      brokers: kafka.brokers,
      label: 'outage',
      env: { COLLECT_DEADLINE_MS: '1500' },
      superviseWorkers: true,
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    await kafka?.stop();
  });

  const count = async () => {
    const c = new pg.Client({ connectionString: stack.db.url });
    await c.connect();
    const r = await c.query<{ n: number }>(
      "SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = ''",
      [stack.site.id],
    );
    const e = await c.query<{ event_id: string }>('SELECT event_id FROM events WHERE site_id = $1', [stack.site.id]);
    await c.end();
    return { pageviews: r.rows[0]!.n, ids: e.rows.map((x) => x.event_id) };
  };

  it(
    'answers 503 with Retry-After while the broker is down, stores nothing, and counts the retried event exactly once',
    { timeout: 180_000 },
    async () => {
      const first = randomUUID();
      expect((await post(stack, JSON.stringify({ s: stack.site.key, u: 'http://127.0.0.1/a', i: first }))).status).toBe(
        202,
      );
      await eventually(async () => (await count()).pageviews === 1, 30_000, 'first event counted');

      await kafka.stop(); // SIGTERM, then SIGKILL after the grace period
      const retried = randomUUID();
      const started = Date.now();
      const down = await post(stack, JSON.stringify({ s: stack.site.key, u: 'http://127.0.0.1/b', i: retried }));
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('2');
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await count()).ids).not.toContain(retried);

      kafka = await ensureKafka({
        version: env().KAFKA_VERSION,
        port,
        dataDir: env().EDDY_DATA_DIR,
        name: `outage-${port}`,
      });
      // The tracker's behaviour: retry with the same id until acknowledged, then once more by accident.
      await eventually(
        async () =>
          (await post(stack, JSON.stringify({ s: stack.site.key, u: 'http://127.0.0.1/b', i: retried }))).status ===
          202,
        90_000,
        'accepted after the broker is back',
      );
      expect(
        (await post(stack, JSON.stringify({ s: stack.site.key, u: 'http://127.0.0.1/b', i: retried }))).status,
      ).toBe(202);
      await eventually(async () => (await count()).ids.includes(retried), 60_000, 'retried event stored');
      await new Promise((r) => setTimeout(r, 1500));
      const final = await count();
      expect(final.ids.sort()).toEqual([first, retried].sort());
      expect(final.pageviews).toBe(2);
    },
  );
});
