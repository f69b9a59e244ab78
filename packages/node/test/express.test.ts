import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../../tests/helpers/stack';
import { eventually } from '../../../tests/helpers/wait';
import { HttpSession } from '../../../tests/integration/support/http-session';
import { eddy, type EddyMiddleware } from '../src/index';

// The SDK against a real Eddy (web process + workers, embedded bus): an Express app with the
// middleware serves requests from many clients (distinct addresses through a trusted proxy
// header); every request must be counted exactly once, and stopping Eddy in the middle of a run
// must leave the app's responses untouched, with the events delivered once Eddy is back.

let stack: Stack;
let db: pg.Pool;
let apiKey: string;

beforeAll(async () => {
  stack = await startStack({ bus: 'embedded', label: 'sdk' });
  db = new pg.Pool({ connectionString: stack.db.url });
  db.on('error', () => undefined);
  const owner = new HttpSession(stack.url);
  expect(await owner.signIn(stack.user.email, stack.user.password)).toBe(true);
  const r = await owner.json<{ key: string }>(`/api/sites/${stack.site.id}/api-keys`, {
    method: 'POST',
    json: { label: 'sdk test', scopes: ['events:write'] },
  });
  expect(r.status).toBe(201);
  apiKey = r.body.key;
});

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

interface App {
  url: string;
  middleware: EddyMiddleware;
  close(): Promise<void>;
}

async function startApp(run: string, opts: { initialBackoffMs?: number; maxBackoffMs?: number } = {}): Promise<App> {
  const app = express();
  const middleware = eddy({
    apiKey,
    endpoint: stack.url,
    trustProxy: true,
    flushOnExit: false,
    flushIntervalMs: 50,
    ...opts,
  });
  app.use(middleware);
  app.get('/static/app.js', (_req, res) => void res.type('js').send('1'));
  app.get('/orders/:id', (req, res) => void res.json({ run, id: req.params.id }));
  app.get('/missing', (_req, res) => void res.status(404).json({ error: 'nope' }));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    middleware,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** n requests, `concurrency` at a time, each from its own client address; returns each response's latency (ms). */
async function drive(app: App, run: string, from: number, n: number, concurrency = 16): Promise<number[]> {
  const latencies: number[] = [];
  let next = from;
  const worker = async () => {
    while (next < from + n) {
      const i = next++;
      const path = i % 10 === 9 ? '/missing' : `/orders/${i}?token=secret-${i}`;
      const t0 = performance.now();
      const res = await fetch(`${app.url}${path}`, {
        headers: {
          'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36',
        },
      });
      const body = (await res.json()) as { run?: string; id?: string };
      latencies.push(performance.now() - t0);
      if (path === '/missing') expect(res.status).toBe(404);
      else expect(body).toEqual({ run, id: String(i) });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies;
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

describe('@eddy/node against a real Eddy', () => {
  it('1,000 requests through an Express app: all counted, exactly once, without their query strings', async () => {
    const app = await startApp('a');
    try {
      const latencies = await drive(app, 'a', 0, 1000);
      // A static file is not an event.
      expect((await fetch(`${app.url}/static/app.js`)).status).toBe(200);
      await app.middleware.client.flush(30_000);
      expect(app.middleware.client.stats()).toMatchObject({ pending: 0, sent: 1000, droppedQueueFull: 0, rejected: 0 });
      // Paths are /orders/<i> and /missing: match on the host instead of a run marker.
      const count = async () =>
        (
          await db.query<{ n: number; ids: number; secrets: number; not_found: number; statics: number }>(
            `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS ids,
                    count(*) FILTER (WHERE record->>'url' LIKE '%secret%')::int AS secrets,
                    count(*) FILTER (WHERE (record->'request'->>'status')::int = 404)::int AS not_found,
                    count(*) FILTER (WHERE record->>'path' LIKE '/static/%')::int AS statics
               FROM events WHERE site_id = $1 AND record ? 'request'`,
            [stack.site.id],
          )
        ).rows[0]!;
      await eventually(async () => (await count()).n >= 1000, 60_000, 'all 1,000 events stored');
      // The rollups job counted them too, once each, as server requests.
      const rolled = async () =>
        (
          await db.query<{ n: number }>(
            "SELECT COALESCE(sum(events), 0)::int AS n FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = 'event' AND value = 'request'",
            [stack.site.id],
          )
        ).rows[0]!.n;
      await eventually(async () => (await rolled()) >= 1000, 60_000, 'rollups applied');
      await new Promise((r) => setTimeout(r, 1500)); // anything late would show up now
      expect(await count()).toEqual({ n: 1000, ids: 1000, secrets: 0, not_found: 100, statics: 0 });
      expect(await rolled()).toBe(1000);
      console.log(
        `[sdk] 1,000 requests: app latency p50 ${pct(latencies, 50).toFixed(2)} ms, p99 ${pct(latencies, 99).toFixed(2)} ms (with the middleware, Eddy up)`,
      );
    } finally {
      await app.close();
    }
  });

  it('Eddy stopped mid-run: the app answers every request as before, and the events arrive once Eddy is back', async () => {
    const app = await startApp('b', { initialBackoffMs: 100, maxBackoffMs: 1000 });
    const before = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM events WHERE site_id = $1 AND record ? 'request'",
      [stack.site.id],
    );
    try {
      const up = await drive(app, 'b', 2000, 150);
      await stack.stopWeb();
      const down = await drive(app, 'b', 2150, 300);
      const stats = app.middleware.client.stats();
      // Held in memory for later, not lost and not blocking: the sends are failing and being retried.
      expect(stats.pending).toBeGreaterThan(0);
      expect(stats.droppedQueueFull).toBe(0);
      console.log(
        `[sdk] Eddy down: app latency p50 ${pct(down, 50).toFixed(2)} ms, p99 ${pct(down, 99).toFixed(2)} ms; Eddy up: p50 ${pct(up, 50).toFixed(2)} ms, p99 ${pct(up, 99).toFixed(2)} ms; ${stats.pending} events held, ${stats.retries} retries`,
      );
      await stack.startWeb();
      await eventually(
        async () => app.middleware.client.stats().pending === 0,
        60_000,
        'queue drained after Eddy returned',
      );
      const expected = before.rows[0]!.n + 450;
      const total = async () =>
        (
          await db.query<{ n: number; ids: number }>(
            "SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS ids FROM events WHERE site_id = $1 AND record ? 'request'",
            [stack.site.id],
          )
        ).rows[0]!;
      await eventually(async () => (await total()).n >= expected, 60_000, 'events delivered after Eddy returned');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await total()).toEqual({ n: expected, ids: expected });
      expect(app.middleware.client.stats()).toMatchObject({ sent: 450, droppedQueueFull: 0, rejected: 0 });
    } finally {
      await app.close();
    }
  });
});
