import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as route from '@/app/api/collect/route';
import { closeBus, ensureTopics } from '@/lib/bus';
import { EmbeddedBus } from '@/lib/bus/embedded';
import { CLIENT_IP_HEADER } from '@/lib/collect/client-ip';
import { COLLECT_CORS } from '@/lib/collect/endpoint';
import { ingestionLedger } from '@/lib/collect/ingest';
import { handleCollect } from '@/lib/collect/node-handler';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// The collect endpoint has two transports — plain node:http (lib/collect/node-handler.ts, the
// default) and the Next.js route (app/api/collect/route.ts) — over one adapter
// (lib/collect/endpoint.ts). The same requests go through both here and must get the same
// status, body and CORS headers. In process, so no Next.js build is needed: the route's exported
// handlers are what Next.js calls, and every method sent here must be one it exports (else Next.js
// would answer its own bare 405).

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const IP = '203.0.113.7';

let d: TestDatabase;
let pool: pg.Pool;
let server: Server;
let nodeUrl = '';
let siteKey = '';
let namespace = '';

beforeAll(async () => {
  d = await freshDatabase('collect_transports');
  namespace = `ct${randomBytes(3).toString('hex')}.`;
  // KAFKA_BROKERS empty = unset: the embedded bus, whose records this test can count.
  setEnv({ DATABASE_URL: d.url, KAFKA_BROKERS: '', BUS_NAMESPACE: namespace, TRUSTED_COUNTRY_HEADER: '' });
  await ensureTopics();
  pool = new pg.Pool({ connectionString: d.url });
  siteKey = `k${randomBytes(8).toString('hex')}`;
  const t = await pool.query<{ id: string }>(
    "INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'Transports') RETURNING id",
  );
  await pool.query(
    "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames) VALUES (gen_random_uuid(), $1, 'Shop', 'shop.test', $2, ARRAY['127.0.0.1'])",
    [t.rows[0]!.id, siteKey],
  );
  server = createServer((req, res) => void handleCollect(req, res, IP));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  nodeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/collect`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await ingestionLedger()
    .flush()
    .catch(() => undefined);
  await closeBus();
  await closeDb();
  await pool?.end();
  await d?.drop();
});

interface Case {
  method: string;
  body?: () => string | Uint8Array<ArrayBuffer>;
  headers?: Record<string, string>;
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | null>;
}

// Every header either transport sets on purpose; a difference in any of them is a finding.
const compared = [...Object.keys(COLLECT_CORS), 'Allow', 'Retry-After', 'Content-Type'].map((h) => h.toLowerCase());

async function answerOf(res: Response): Promise<Answer> {
  return {
    status: res.status,
    body: await res.text(),
    headers: Object.fromEntries(compared.map((h) => [h, res.headers.get(h)])),
  };
}

async function viaNode(c: Case): Promise<Answer> {
  const body = c.body?.();
  return answerOf(
    await fetch(nodeUrl, {
      method: c.method,
      body,
      headers: { 'user-agent': CHROME, 'content-type': 'text/plain', ...c.headers },
    }),
  );
}

async function viaRoute(c: Case): Promise<Answer> {
  const handler = (route as Record<string, unknown>)[c.method];
  expect(typeof handler, `the route exports ${c.method}`).toBe('function');
  const body = c.body?.();
  const req = new Request('http://127.0.0.1/api/collect', {
    method: c.method,
    body,
    // server/index.ts sets the client address header before Next.js sees the request.
    headers: { 'user-agent': CHROME, 'content-type': 'text/plain', [CLIENT_IP_HEADER]: IP, ...c.headers },
  });
  return answerOf(await (handler as (r: Request) => Promise<Response>)(req));
}

const produced = async () =>
  (await new EmbeddedBus(pool, d.url).topicOffsets(`${namespace}events`)).reduce((n, p) => n + Number(p.high), 0);
const bytes = (b: Buffer) => new Uint8Array(b);
const event = () => JSON.stringify({ s: siteKey, u: 'http://127.0.0.1/pricing', i: randomUUID() });

describe('the collect endpoint answers the same through node:http and the Next.js route', () => {
  it.each<[string, Case, number, RegExp | null]>([
    ['an OPTIONS preflight', { method: 'OPTIONS' }, 204, null],
    ['a GET', { method: 'GET' }, 405, /Use POST/],
    ['a PUT', { method: 'PUT', body: event }, 405, /Use POST/],
    ['invalid JSON', { method: 'POST', body: () => '{"s":' }, 400, /not valid JSON/],
    [
      'a field zod refuses',
      { method: 'POST', body: () => JSON.stringify({ s: siteKey, u: '/relative' }) },
      400,
      /Invalid field u/,
    ],
    [
      'a body over 64 KB',
      { method: 'POST', body: () => JSON.stringify({ s: siteKey, u: 'http://127.0.0.1/', pad: 'x'.repeat(70_000) }) },
      413,
      /Body over 65536 bytes/,
    ],
    [
      'a gzip bomb',
      {
        method: 'POST',
        body: () => bytes(gzipSync(Buffer.alloc(200_000, 32))),
        headers: { 'content-encoding': 'gzip' },
      },
      413,
      /Decompressed body over/,
    ],
    [
      'an unsupported content encoding',
      { method: 'POST', body: () => 'xx', headers: { 'content-encoding': 'br' } },
      415,
      /Content-Encoding br/,
    ],
    [
      'a body that is not the gzip it claims',
      { method: 'POST', body: () => 'xx', headers: { 'content-encoding': 'gzip' } },
      400,
      /not valid gzip/,
    ],
    [
      'a body that is not UTF-8',
      { method: 'POST', body: () => new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) },
      400,
      /not valid UTF-8/,
    ],
    [
      'an unknown site key (dropped, looks accepted)',
      { method: 'POST', body: () => JSON.stringify({ s: 'no-such-site', u: 'http://127.0.0.1/' }) },
      202,
      /"ok":true/,
    ],
    [
      'a gzipped valid event',
      { method: 'POST', body: () => bytes(gzipSync(event())), headers: { 'content-encoding': 'gzip' } },
      202,
      /"ok":true/,
    ],
  ])('%s', async (_what, c, status, body) => {
    const node = await viaNode(c);
    const next = await viaRoute(c);
    expect(next).toEqual(node);
    // Identical is not enough: both must also be right.
    expect(node.status).toBe(status);
    if (body) expect(node.body).toMatch(body);
    else expect(node.body).toBe('');
    expect(node.headers['access-control-allow-origin']).toBe('*');
    expect(node.headers['access-control-allow-methods']).toBe('POST, OPTIONS');
    if (status === 405) expect(node.headers.allow).toBe('POST, OPTIONS');
  });

  it('a valid event gets 202 with CORS through both, and each is on the bus once', async () => {
    const before = await produced();
    const node = await viaNode({ method: 'POST', body: event });
    expect(await produced()).toBe(before + 1);
    const next = await viaRoute({ method: 'POST', body: event });
    expect(await produced()).toBe(before + 2);
    expect(next).toEqual(node);
    expect(node).toMatchObject({
      status: 202,
      body: '{"ok":true}',
      headers: { 'access-control-allow-origin': '*', 'content-type': 'application/json' },
    });
  });
});
