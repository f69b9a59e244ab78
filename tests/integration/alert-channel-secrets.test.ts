import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { HttpSession } from './support/http-session';

// Alert channel URLs are credentials (a Slack incoming-webhook URL lets anyone post to the
// channel). Issue 13, item 8: viewers saw them in full. Through the real API: an owner
// configures the channels, a viewer sees scheme + host only — in the rule list and in the
// delivery history — and an admin sees them whole. The hosts are under `.invalid` (RFC 6761),
// so the test-fire that fills the history never leaves the machine.

const PASSWORD = 'correct horse battery staple';
const WEBHOOK = 'https://user:pa55@hooks.eddy-test.invalid/in/7f3c9d2e-secret-path?token=s3cr3t';
const SLACK = 'https://slack.eddy-test.invalid/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX';

let stack: Stack;
let db: pg.Pool;
let owner: HttpSession;
let teamId = '';

async function member(role: 'viewer' | 'admin', ip: string): Promise<HttpSession> {
  const http = new HttpSession(stack.url, ip);
  const email = `${role}-${randomUUID().slice(0, 8)}@example.test`;
  await http.signUp(email, PASSWORD, role);
  await db.query('INSERT INTO memberships (team_id, user_id, role) SELECT $1, id, $3 FROM users WHERE email = $2', [
    teamId,
    email,
    role,
  ]);
  return http;
}

type Channels = { kind: string; url?: string; secret?: string }[];

beforeAll(async () => {
  stack = await startStack({
    bus: 'embedded',
    worker: false,
    label: 'channel-secrets',
    env: { TRUSTED_PROXY_HEADER: 'x-forwarded-for' },
  });
  db = new pg.Pool({ connectionString: stack.db.url });
  db.on('error', () => undefined);
  owner = new HttpSession(stack.url, '198.51.100.31');
  expect(await owner.signIn(stack.user.email, stack.user.password)).toBe(true);
  teamId = (await db.query<{ team_id: string }>('SELECT team_id FROM sites WHERE id = $1', [stack.site.id])).rows[0]!
    .team_id;
});

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

describe('alert channel URLs by role', () => {
  it('viewers get scheme and host only, in rules and delivery history; admins get the whole URL', async () => {
    const created = await owner.json<{ rule: { id: string } }>(`/api/sites/${stack.site.id}/alerts`, {
      method: 'POST',
      json: {
        name: 'Spike',
        condition: { type: 'sla' },
        channels: [{ kind: 'webhook', url: WEBHOOK }, { kind: 'slack', url: SLACK }, { kind: 'inapp' }],
      },
    });
    expect(created.status).toBe(200);
    const fired = await owner.json(`/api/sites/${stack.site.id}/alerts/${created.body.rule.id}/test`, {
      method: 'POST',
    });
    expect(fired.status).toBe(200);

    const viewer = await member('viewer', '198.51.100.32');
    const admin = await member('admin', '198.51.100.33');

    const rulesAs = async (h: HttpSession) =>
      (await h.json<{ rules: { channels: Channels }[] }>(`/api/sites/${stack.site.id}/alerts`)).body.rules[0]!.channels;
    const targetsAs = async (h: HttpSession) => {
      const r = await h.json<{ history: { deliveries: { channel: string; target: string }[] }[] }>(
        `/api/sites/${stack.site.id}/alerts/history`,
      );
      expect(r.status).toBe(200);
      return r.body.history
        .flatMap((e) => e.deliveries)
        .filter((d) => d.channel !== 'inapp')
        .map((d) => [d.channel, d.target]);
    };

    expect(await rulesAs(viewer)).toEqual([
      { kind: 'webhook', url: 'https://hooks.eddy-test.invalid/…' },
      { kind: 'slack', url: 'https://slack.eddy-test.invalid/…' },
      { kind: 'inapp' },
    ]);
    await eventually(async () => (await targetsAs(viewer)).length === 2, 10_000, 'test deliveries logged');
    expect(await targetsAs(viewer)).toEqual([
      ['webhook', 'https://hooks.eddy-test.invalid/…'],
      ['slack', 'https://slack.eddy-test.invalid/…'],
    ]);
    // Nothing of the secret parts anywhere in what a viewer can read.
    const raw = JSON.stringify([
      await viewer.json(`/api/sites/${stack.site.id}/alerts`),
      await viewer.json(`/api/sites/${stack.site.id}/alerts/history`),
    ]);
    for (const secret of ['7f3c9d2e', 's3cr3t', 'pa55', 'XXXXXXXX', 'whsec_']) expect(raw).not.toContain(secret);

    for (const h of [admin, owner]) {
      const channels = await rulesAs(h);
      expect(channels.map((c) => c.url)).toEqual([WEBHOOK, SLACK, undefined]);
      expect(channels[0]!.secret).toMatch(/^whsec_/);
      expect(await targetsAs(h)).toEqual([
        ['webhook', WEBHOOK],
        ['slack', SLACK],
      ]);
    }
  });
});
