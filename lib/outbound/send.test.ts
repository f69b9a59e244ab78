import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isEddyError } from '../errors';
import { outboundPolicy, type AddressPolicy } from './address-policy';
import { systemResolver, validateOutboundUrl, type OutboundDeps, type Resolver } from './resolve-target';
import { MAX_REDIRECTS, sendOutbound } from './send';

// The outbound guard against real loopback receivers that must not be reached. The "victim"
// listens on every local address (IPv4 and, where the machine has it, IPv6), so any request the
// guard let through would land and be counted. To test a redirect hop while loopback is
// forbidden, the policy is injected: only the redirector's own port is allowed, so the first
// hop goes out and the hop it redirects to must be refused.

interface Receiver {
  server: Server;
  port: number;
  hits: string[];
}

async function receiver(
  host: string,
  handler?: (url: string, res: import('node:http').ServerResponse) => void,
  port = 0,
): Promise<Receiver> {
  const r: Receiver = { server: createServer(), port: 0, hits: [] };
  r.server.on('request', (req, res) => {
    r.hits.push(`${req.method} ${req.url}`);
    req.resume();
    if (handler) handler(req.url ?? '/', res);
    else res.writeHead(204).end();
  });
  await new Promise<void>((resolve, reject) => {
    r.server.once('error', reject);
    r.server.listen(port, host, () => resolve());
  });
  r.port = (r.server.address() as AddressInfo).port;
  return r;
}

const close = (r?: Receiver) => new Promise<void>((resolve) => (r ? r.server.close(() => resolve()) : resolve()));

let victim: Receiver;
let redirector: Receiver;
let redirectTo = '';

const guarded: OutboundDeps = { resolve: systemResolver, policy: outboundPolicy({ allowPrivate: false }) };

/** Loopback is forbidden except the redirector's port on 127.0.0.1. */
function allowOnly(address: string, port: number): AddressPolicy {
  const base = outboundPolicy({ allowPrivate: false });
  return (a, p) => (a === address && p === port ? null : base(a, p));
}

const post = (url: string, deps: OutboundDeps) =>
  sendOutbound(
    url,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"probe":true}', timeoutMs: 3000 },
    deps,
  );

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isEddyError(e) && e.code === 'bad_request') return e.message;
    throw e;
  }
  throw new Error('the request was not refused');
}

beforeAll(async () => {
  // '::' is dual-stack on Linux; fall back to IPv4 only where IPv6 is missing.
  victim = await receiver('::').catch(() => receiver('0.0.0.0'));
  redirector = await receiver('127.0.0.1', (_url, res) => res.writeHead(302, { location: redirectTo }).end());
});

afterAll(async () => {
  await close(victim);
  await close(redirector);
});

beforeEach(() => {
  victim.hits.length = 0;
  redirector.hits.length = 0;
});

describe('outbound requests to user-supplied URLs', () => {
  it('the receiver is reachable when the policy allows it (positive control)', async () => {
    const res = await post(`http://127.0.0.1:${victim.port}/hook`, {
      resolve: systemResolver,
      policy: outboundPolicy({ allowPrivate: true }),
    });
    expect(res.status).toBe(204);
    expect(victim.hits).toEqual(['POST /hook']);
  });

  it.each([
    ['a loopback IP', (p: number) => `http://127.0.0.1:${p}/hook`, /loopback/],
    ['another loopback IP', (p: number) => `http://127.0.0.2:${p}/hook`, /loopback/],
    [
      'localhost (resolved by the system resolver)',
      (p: number) => `http://localhost:${p}/hook`,
      /localhost resolves to a .*loopback/,
    ],
    ['a decimal IPv4', (p: number) => `http://2130706433:${p}/hook`, /loopback/],
    ['a hex IPv4', (p: number) => `http://0x7f.1:${p}/hook`, /loopback/],
    ['a short IPv4', (p: number) => `http://127.1:${p}/hook`, /loopback/],
    ['an octal IPv4', (p: number) => `http://0177.0.0.01:${p}/hook`, /loopback/],
    ['the unspecified address', (p: number) => `http://0.0.0.0:${p}/hook`, /unspecified/],
    ['IPv6 loopback', (p: number) => `http://[::1]:${p}/hook`, /loopback/],
    ['IPv4-mapped IPv6', (p: number) => `http://[::ffff:127.0.0.1]:${p}/hook`, /IPv4-mapped loopback/],
    ['IPv4-mapped IPv6 in hex', (p: number) => `http://[::ffff:7f00:1]:${p}/hook`, /IPv4-mapped loopback/],
    ['https to loopback', (p: number) => `https://127.0.0.1:${p}/hook`, /loopback/],
    [
      'user info in front of a loopback host',
      (p: number) => `http://hooks.example.com@127.0.0.1:${p}/hook`,
      /loopback/,
    ],
  ])('refuses %s and never connects', async (_name, url, reason) => {
    expect(await refusal(post(url(victim.port), guarded))).toMatch(reason);
    expect(victim.hits).toEqual([]);
  });

  it.each([
    'file:///etc/passwd',
    'data:text/plain,hello',
    'ftp://127.0.0.1/x',
    'gopher://127.0.0.1:70/_x',
    'javascript:alert(1)',
  ])('refuses the non-http URL %s', async (url) => {
    expect(await refusal(post(url, guarded))).toMatch(/not allowed \(http and https only\)/);
  });

  it('refuses metadata and private ranges without sending anything (no connection is attempted)', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      'http://100.64.0.1/',
      'http://192.168.1.1/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
    ]) {
      expect(await refusal(post(url, guarded)), url).toMatch(/refused/);
    }
  });

  it('a hostname that resolves to loopback is refused, whatever it is called', async () => {
    const resolve: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    expect(
      await refusal(post(`http://hooks.example.com:${victim.port}/hook`, { resolve, policy: guarded.policy })),
    ).toMatch(/hooks.example.com resolves to a loopback/);
    // One bad address among several refuses the host (round-robin DNS cannot slip one in).
    const mixed: Resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '::1', family: 6 },
    ];
    expect(
      await refusal(post(`http://hooks.example.com:${victim.port}/hook`, { resolve: mixed, policy: guarded.policy })),
    ).toMatch(/loopback/);
    expect(victim.hits).toEqual([]);
  });

  it.each([
    ['a loopback IP', (p: number) => `http://127.0.0.1:${p}/internal`],
    ['localhost', (p: number) => `http://localhost:${p}/internal`],
    ['IPv6 loopback', (p: number) => `http://[::1]:${p}/internal`],
    ['a decimal IPv4', (p: number) => `http://2130706433:${p}/internal`],
    ['metadata', () => 'http://169.254.169.254/latest/meta-data/'],
    ['a file URL', () => 'file:///etc/passwd'],
  ])('checks every redirect hop: an allowed receiver redirecting to %s is refused', async (_name, target) => {
    redirectTo = target(victim.port);
    const deps = { resolve: systemResolver, policy: allowOnly('127.0.0.1', redirector.port) };
    expect(await refusal(post(`http://127.0.0.1:${redirector.port}/hook`, deps))).toMatch(/refused|not allowed/);
    expect(redirector.hits).toEqual(['POST /hook']);
    expect(victim.hits).toEqual([]);
  });

  it('follows an allowed redirect, and gives up after a bounded number of hops', async () => {
    const deps = { resolve: systemResolver, policy: outboundPolicy({ allowPrivate: true }) };
    redirectTo = `http://127.0.0.1:${victim.port}/moved`;
    expect((await post(`http://127.0.0.1:${redirector.port}/hook`, deps)).status).toBe(204);
    expect(victim.hits).toEqual(['GET /moved']); // 302: the POST becomes a GET, as in browsers

    redirector.hits.length = 0;
    redirectTo = `http://127.0.0.1:${redirector.port}/again`;
    expect(await refusal(post(`http://127.0.0.1:${redirector.port}/hook`, deps))).toMatch(/more than 3 redirects/);
    expect(redirector.hits).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('connects to the address that was checked, not to a second DNS answer (no rebinding window)', async () => {
    // Two receivers on one port: 127.0.0.2 stands in for a public host (the policy allows it),
    // 127.0.0.1 is the internal target a rebinding DNS server would switch to after the check.
    const pub = await receiver('127.0.0.2', undefined, victim.port).catch(() => null);
    if (!pub) return; // the port is taken on 127.0.0.2 by something else; nothing to show
    try {
      let calls = 0;
      const rebinding: Resolver = async () =>
        calls++ === 0 ? [{ address: '127.0.0.2', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
      const res = await post(`http://rebind.example:${victim.port}/hook`, {
        resolve: rebinding,
        policy: allowOnly('127.0.0.2', victim.port),
      });
      expect(res.status).toBe(204);
      expect(calls).toBe(1);
      expect(pub.hits).toEqual(['POST /hook']);
      expect(victim.hits).toEqual([]);
    } finally {
      await close(pub);
    }
  });
});

describe('validateOutboundUrl (save time)', () => {
  it('names the field and the reason', async () => {
    await expect(validateOutboundUrl('http://127.1:9/x', 'channels.0.url', guarded)).rejects.toThrow(
      'channels.0.url: loopback address refused',
    );
    await expect(validateOutboundUrl('http://localhost/x', 'channels.1.url', guarded)).rejects.toThrow(
      /^channels.1.url: host localhost resolves to a loopback address; refused$/,
    );
  });
  it('accepts a public address and a host that does not resolve yet (send time checks again)', async () => {
    await expect(validateOutboundUrl('https://93.184.216.34/hook', 'url', guarded)).resolves.toBeUndefined();
    await expect(validateOutboundUrl('https://hooks.eddy-test.invalid/hook', 'url', guarded)).resolves.toBeUndefined();
  });
});
