import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EddyClient, withEddy, withEddyRoute } from '../src/index';

// The node:http and Next.js adapters on real servers and real Requests: the customer's answer
// passes through untouched, errors are the customer's own, and each request queues one event
// (the client points at a closed port, so events stay queued where the test can count them).

const client = () =>
  new EddyClient({ apiKey: 'eddy_test', endpoint: 'http://127.0.0.1:9', flushOnExit: false, flushIntervalMs: 60_000 });

describe('adapters', () => {
  it('node:http: withEddy answers as the handler does and queues one event per request, none for static files', async () => {
    const c = client();
    const server = http.createServer(
      withEddy(c, (req, res) => void res.writeHead(req.url?.startsWith('/teapot') ? 418 : 200).end('body'), {
        trustProxy: true,
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const h = { 'x-forwarded-for': '198.51.100.3' };
      const a = await fetch(`${base}/teapot?secret=1`, { headers: h });
      expect([a.status, await a.text()]).toEqual([418, 'body']);
      expect((await fetch(`${base}/app.js`, { headers: h })).status).toBe(200);
      expect((await fetch(`${base}/local`)).status).toBe(200); // from loopback: skipped
      await new Promise((r) => setTimeout(r, 50)); // the 'close' of the last response
      expect(c.stats().pending).toBe(1);
    } finally {
      server.close();
      await c.shutdown(10);
    }
  });

  it('Next.js: withEddyRoute returns the handler’s Response and rethrows its errors, recording both', async () => {
    const c = client();
    const ok = withEddyRoute(c, async (req: Request) =>
      Response.json({ path: new URL(req.url).pathname }, { status: 201 }),
    );
    const boom = withEddyRoute(c, async () => {
      throw new Error('the customer’s bug');
    });
    const headers = { 'x-forwarded-for': '198.51.100.4', 'user-agent': 'Mozilla/5.0' };
    const res = await ok(new Request('https://shop.example/api/orders?token=x', { headers }), {});
    expect([res.status, await res.json()]).toEqual([201, { path: '/api/orders' }]);
    await expect(boom(new Request('https://shop.example/api/fail', { headers }), {})).rejects.toThrow(
      'the customer’s bug',
    );
    expect(c.stats().pending).toBe(2);
    await c.shutdown(10);
  });
});
