import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_FIRE_LIMITS } from '@/lib/alerts/manage';
import { startStack, type Stack } from '../helpers/stack';
import { HttpSession } from './support/http-session';

// SSRF through alert channels (issue 13, item 3), against a running Eddy with default settings
// (OUTBOUND_ALLOW_PRIVATE unset). A real receiver listens on loopback and must never see a
// request: channel URLs aimed at it (directly, by name, in obfuscated forms) are refused when
// saved, a rule that already holds such a URL (saved before the guard, or DNS changed since) is
// refused at send time, and test-fire — the port scanner's trigger — is rate-limited.

let stack: Stack;
let db: pg.Pool;
let admin: HttpSession;
let receiver: Server;
let port = 0;
let hits = 0;

const rulesPath = () => `/api/sites/${stack.site.id}/alerts`;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(204).end();
  });
  // Dual-stack, so IPv6 loopback forms would land too.
  await new Promise<void>((resolve) => receiver.listen(0, '::', resolve));
  port = (receiver.address() as AddressInfo).port;
  stack = await startStack({
    bus: 'embedded',
    worker: false,
    label: 'ssrf',
    env: { TRUSTED_PROXY_HEADER: 'x-forwarded-for' },
  });
  db = new pg.Pool({ connectionString: stack.db.url });
  db.on('error', () => undefined);
  admin = new HttpSession(stack.url, '198.51.100.41');
  expect(await admin.signIn(stack.user.email, stack.user.password)).toBe(true);
});

afterAll(async () => {
  await db?.end();
  await stack?.stop();
  await new Promise((r) => receiver?.close(r));
});

const hostile = (): [string, RegExp][] => [
  [`http://127.0.0.1:${port}/hook`, /loopback address refused/],
  [`http://localhost:${port}/hook`, /host localhost resolves to a .*loopback address; refused/],
  [`http://2130706433:${port}/hook`, /loopback/],
  [`http://0x7f.1:${port}/hook`, /loopback/],
  [`http://127.1:${port}/hook`, /loopback/],
  [`http://0.0.0.0:${port}/hook`, /unspecified/],
  [`http://[::1]:${port}/hook`, /loopback/],
  [`http://[::ffff:127.0.0.1]:${port}/hook`, /IPv4-mapped loopback/],
  ['http://169.254.169.254/latest/meta-data/iam/', /metadata/],
  ['http://10.0.0.8/hook', /private/],
  ['http://172.20.1.1/hook', /private/],
  ['http://192.168.0.1/hook', /private/],
  ['http://100.64.0.1/hook', /carrier-grade/],
  ['http://[fd00::1]/hook', /unique local/],
  ['http://[fe80::1]/hook', /link-local/],
  ['http://224.0.0.1/hook', /multicast/],
  ['file:///etc/passwd', /must be an http:\/\/ or https:\/\/ URL/],
  ['data:text/plain,hello', /must be an http:\/\/ or https:\/\/ URL/],
  ['gopher://127.0.0.1:6379/_INFO', /must be an http:\/\/ or https:\/\/ URL/],
];

describe('alert channel URLs', () => {
  it('are refused when saved (400 naming the field), for webhooks and Slack, on create and on edit', async () => {
    const ok = await admin.json<{ rule: { id: string } }>(rulesPath(), {
      method: 'POST',
      json: { name: 'Base', condition: { type: 'sla' }, channels: [{ kind: 'inapp' }] },
    });
    expect(ok.status).toBe(200);
    const failures: string[] = [];
    for (const [url, reason] of hostile()) {
      for (const [i, kind] of [
        [0, 'webhook'],
        [1, 'slack'],
      ] as const) {
        const channels = i === 0 ? [{ kind, url }] : [{ kind: 'inapp' }, { kind, url }];
        const created = await admin.json<{ error?: { code: string; message: string } }>(rulesPath(), {
          method: 'POST',
          json: { name: 'SSRF', condition: { type: 'sla' }, channels },
        });
        const edited = await admin.json<{ error?: { code: string; message: string } }>(
          `${rulesPath()}/${ok.body.rule.id}`,
          { method: 'PATCH', json: { channels } },
        );
        for (const [what, r] of [
          ['create', created],
          ['edit', edited],
        ] as const) {
          const good =
            r.status === 400 &&
            r.body.error?.code === 'bad_request' &&
            r.body.error.message.startsWith(`channels.${i}.url: `) &&
            reason.test(r.body.error.message);
          if (!good) failures.push(`${what} ${kind} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    const stored = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM alert_rules WHERE site_id = $1 AND channels::text LIKE '%url%'",
      [stack.site.id],
    );
    expect(stored.rows[0]!.n).toBe(0);
    expect(hits).toBe(0);
  });

  it('a rule that already holds a loopback URL is refused at send time: nothing is sent, the delivery fails at once', async () => {
    const channels = [
      { kind: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: 'whsec_0123456789abcdef' },
      { kind: 'slack', url: `http://localhost:${port}/slack` },
      { kind: 'webhook', url: `http://2130706433:${port}/hook` },
    ];
    const rule = await db.query<{ id: string }>(
      `INSERT INTO alert_rules (id, site_id, name, condition, channels) VALUES (gen_random_uuid(), $1, 'Old rule', '{"type":"sla"}', $2) RETURNING id`,
      [stack.site.id, JSON.stringify(channels)],
    );
    const fired = await admin.json(`${rulesPath()}/${rule.rows[0]!.id}/test`, { method: 'POST' });
    expect(fired.status).toBe(200);
    const rows = await db.query<{ status: string; attempts: number; http_status: number | null; error: string }>(
      'SELECT d.status, d.attempts, d.http_status, d.error FROM alert_deliveries d JOIN alert_events e ON e.id = d.event_id WHERE e.rule_id = $1 ORDER BY d.id',
      [rule.rows[0]!.id],
    );
    expect(rows.rows).toHaveLength(3);
    for (const r of rows.rows) {
      expect([r.status, r.attempts, r.http_status]).toEqual(['failed', 1, null]);
      expect(r.error).toMatch(/^refused: .*loopback/);
    }
    expect(hits).toBe(0);
  });

  it('test-fire is rate-limited per rule and per user', async () => {
    const { perRule, perUser } = TEST_FIRE_LIMITS;
    const newRule = async (name: string) =>
      (
        await admin.json<{ rule: { id: string } }>(rulesPath(), {
          method: 'POST',
          json: { name, condition: { type: 'sla' }, channels: [{ kind: 'inapp' }] },
        })
      ).body.rule.id;
    const fire = (id: string) => admin.fetch(`${rulesPath()}/${id}/test`, { method: 'POST' });
    // Tests fired earlier in this file count towards the user's limit.
    const before = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM alert_events WHERE kind = 'test'"))
      .rows[0]!.n;

    const first = await newRule('Limited');
    for (let i = 0; i < perRule.max; i++) expect((await fire(first)).status).toBe(200);
    const refused = await fire(first);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/this rule/);

    let used = before + perRule.max;
    while (used < perUser.max) {
      const id = await newRule(`More ${used}`);
      for (let i = 0; i < perRule.max && used < perUser.max; i++, used++) expect((await fire(id)).status).toBe(200);
    }
    const fresh = await newRule('Fresh');
    const overUser = await fire(fresh);
    expect(overUser.status).toBe(429);
    expect(((await overUser.json()) as { error: { message: string } }).error.message).toMatch(/your account/);
    const tests = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM alert_events WHERE kind = 'test'"))
      .rows[0]!.n;
    expect(tests).toBe(perUser.max);
  });
});
