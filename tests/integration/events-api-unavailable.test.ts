import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startStack, type Stack } from '../helpers/stack';
import { HttpSession } from './support/http-session';

// The events API answers 202 only after the bus acknowledged: with no broker to take the events
// it answers 503 + Retry-After (JSON) once COLLECT_DEADLINE_MS has passed, and books nothing —
// the caller's retry with the same ids will be booked instead.

let stack: Stack;
let db: pg.Pool;
let key = '';

beforeAll(async () => {
  // A broker address nothing listens on: Kafka is "down" for the whole test.
  stack = await startStack({
    bus: 'kafka',
    brokers: `127.0.0.1:${await freePort()}`,
    worker: false,
    label: 'events-api-503',
    env: { COLLECT_DEADLINE_MS: '500' },
  });
  db = new pg.Pool({ connectionString: stack.db.url });
  db.on('error', () => undefined);
  const owner = new HttpSession(stack.url);
  expect(await owner.signIn(stack.user.email, stack.user.password)).toBe(true);
  const r = await owner.json<{ key: string }>(`/api/sites/${stack.site.id}/api-keys`, {
    method: 'POST',
    json: { scopes: ['events:write'] },
  });
  expect(r.status).toBe(201);
  key = r.body.key;
});

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

describe('events API while the bus is unavailable', () => {
  it('answers 503 with Retry-After and a JSON error, and books nothing as accepted', async () => {
    const res = await fetch(`${stack.url}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [
          {
            id: randomUUID(),
            name: 'pageview',
            url: 'https://shop.test/',
            ip: '198.51.100.5',
            user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36',
          },
        ],
      }),
    });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    await new Promise((r) => setTimeout(r, 2500)); // past the ledger's 1 s flush
    const booked = await db.query<{ n: number }>(
      'SELECT COALESCE(sum(received), 0)::int AS n FROM ingestion_ledger WHERE site_id = $1',
      [stack.site.id],
    );
    expect(booked.rows[0]!.n).toBe(0);
  });
});
