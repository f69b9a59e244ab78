import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '@/lib/bus/kafka';
import { setEnv } from '@/lib/env';
import type { Channel } from '@/lib/alerts/rules';
import { MAX_ATTEMPTS, retryDelayMs } from '@/lib/notify/backoff';
import { deliverDue, enqueueDeliveries } from '@/lib/notify/deliveries';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '@/lib/notify/sign';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp';

// The alert delivery log against real receivers: an HTTP server that fails before it accepts,
// one that never accepts, an SMTP server. Each failure is recorded with its HTTP status or error
// and retried on the backoff schedule (2 s, 4 s, 8 s …) until it succeeds or MAX_ATTEMPTS is
// reached; two senders never send one delivery twice. Waiting out the schedule would take a
// minute, so the test checks each recorded retry time and then moves it to now.

const SECRET = 'whsec_0123456789abcdef';

let d: TestDatabase;
let pool: pg.Pool;
let bus: KafkaBus;
let smtp: SmtpSink;
let http: Server;
let base: string;
/** Requests per path, with whether the signature verified. */
const received = new Map<string, { at: number; id: string; signed: boolean }[]>();
/** Per path: how many requests fail (503) before one succeeds; Infinity never succeeds. */
const failFirst = new Map<string, number>([
  ['/flaky', 2],
  ['/down', Infinity],
  ['/ok', 0],
]);

let siteId: string;

beforeAll(async () => {
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      const list = received.get(path) ?? [];
      const signed = verifySignature(
        SECRET,
        req.headers[TIMESTAMP_HEADER] as string,
        body,
        req.headers[SIGNATURE_HEADER] as string,
      );
      list.push({ at: Date.now(), id: (JSON.parse(body) as { id: string }).id, signed });
      received.set(path, list);
      res.statusCode = list.length > (failFirst.get(path) ?? 0) ? 200 : 503;
      res.end();
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  smtp = await startSmtpSink();
  // The receivers are on loopback, which the outbound guard refuses by default (SSRF); this is
  // the self-hosted setting that allows it. tests/integration/alert-channel-ssrf.test.ts covers the default.
  setEnv({ SMTP_URL: smtp.url, SMTP_FROM: 'Eddy <eddy@example.test>', OUTBOUND_ALLOW_PRIVATE: 'true' });

  d = await freshDatabase('alert_deliveries');
  pool = new pg.Pool({ connectionString: d.url });
  pool.on('error', () => undefined); // dropping the test database terminates connections that are still closing
  bus = new KafkaBus(kafkaBrokers(), 'alert-deliveries-test');
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'T') RETURNING id")
  ).rows[0]!.id;
  siteId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key) VALUES (gen_random_uuid(), $1, 'Shop', 'shop.test', $2) RETURNING id",
      [team, `k-${randomUUID()}`],
    )
  ).rows[0]!.id;
});

afterAll(async () => {
  await bus?.close();
  await pool?.end();
  await smtp.close();
  await new Promise<void>((r) => http.close(() => r()));
  await d?.drop();
});

/** A fired alert on a rule with these channels; returns the alert event id. */
async function fire(channels: Channel[]): Promise<string> {
  const rule = (
    await pool.query<{ id: string }>(
      `INSERT INTO alert_rules (id, site_id, name, condition, channels) VALUES (gen_random_uuid(), $1, 'Traffic spike', '{"kind":"spike","factor":3}', $2) RETURNING id`,
      [siteId, JSON.stringify(channels)],
    )
  ).rows[0]!.id;
  const event = (
    await pool.query<{ id: string }>(
      `INSERT INTO alert_events (rule_id, site_id, kind, dedup_key, value, message, payload) VALUES ($1, $2, 'firing', $3, 42, 'Traffic spike: 42 pageviews', '{}') RETURNING id::text`,
      [rule, siteId, randomUUID()],
    )
  ).rows[0]!.id;
  await enqueueDeliveries(pool, event, channels);
  return event;
}

interface DeliveryRow {
  id: string;
  channel: string;
  target: string;
  status: string;
  attempts: number;
  http_status: number | null;
  error: string | null;
  retry_in_ms: number;
}

const deliveries = async (eventId: string): Promise<DeliveryRow[]> =>
  (
    await pool.query<DeliveryRow>(
      `SELECT id::text, channel, target, status, attempts, http_status, error,
         round(extract(epoch FROM next_attempt_at - updated_at) * 1000)::int AS retry_in_ms
       FROM alert_deliveries WHERE event_id = $1 ORDER BY id`,
      [eventId],
    )
  ).rows;

/** Makes every pending retry of the event due now (instead of waiting out the backoff). */
const fastForward = (eventId: string) =>
  pool.query("UPDATE alert_deliveries SET next_attempt_at = now() WHERE event_id = $1 AND status = 'pending'", [
    eventId,
  ]);

describe('alert deliveries', () => {
  it('retries a failing webhook on the backoff schedule until it accepts, and gives up on one that never does', async () => {
    const event = await fire([
      { kind: 'webhook', url: `${base}/flaky`, secret: SECRET },
      { kind: 'webhook', url: `${base}/down`, secret: SECRET },
      { kind: 'email', to: ['owner@example.test'] },
    ]);

    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await deliverDue(pool, bus, { eventId: event });
      const rows = await deliveries(event);
      const down = rows.find((r) => r.target.endsWith('/down'))!;
      expect(down.attempts).toBe(attempt);
      expect(down.http_status).toBe(503);
      expect(down.error).toBe('HTTP 503');
      if (attempt < MAX_ATTEMPTS) {
        expect(down.status).toBe('pending');
        // The recorded retry time follows the schedule (the row's clock, so no test timing in it).
        expect(down.retry_in_ms).toBe(retryDelayMs(attempt));
      } else expect(down.status, 'given up after MAX_ATTEMPTS').toBe('failed');

      const flaky = rows.find((r) => r.target.endsWith('/flaky'))!;
      if (attempt <= 2)
        expect([flaky.status, flaky.attempts, flaky.http_status, flaky.retry_in_ms]).toEqual([
          'pending',
          attempt,
          503,
          retryDelayMs(attempt),
        ]);
      else expect([flaky.status, flaky.attempts, flaky.http_status]).toEqual(['ok', 3, 200]);

      const email = rows.find((r) => r.channel === 'email')!;
      expect([email.status, email.attempts, email.error]).toEqual(['ok', 1, null]);
      await fastForward(event);
    }
    // Nothing is sent after giving up, however often the sender runs.
    await deliverDue(pool, bus, { eventId: event });
    expect(received.get('/down')).toHaveLength(MAX_ATTEMPTS);
    expect(received.get('/flaky')).toHaveLength(3);
    // Every attempt carries the same alert and a valid signature.
    for (const r of [...received.get('/down')!, ...received.get('/flaky')!])
      expect([r.id, r.signed]).toEqual([event, true]);
    expect(smtp.mails.map((m) => [m.to, m.subject])).toEqual([[['owner@example.test'], '[Eddy] Traffic spike']]);
  });

  it('records an unreachable receiver as an error to retry', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const event = await fire([{ kind: 'webhook', url: `http://127.0.0.1:${deadPort}/hook` }]);
    await deliverDue(pool, bus, { eventId: event });
    const [row] = await deliveries(event);
    expect([row!.status, row!.attempts, row!.http_status, row!.retry_in_ms]).toEqual([
      'pending',
      1,
      null,
      retryDelayMs(1),
    ]);
    expect(row!.error).toMatch(/fetch failed|ECONNREFUSED/);
    await pool.query("UPDATE alert_deliveries SET status = 'failed' WHERE event_id = $1", [event]); // out of the way of the next test
  });

  it('a delivery whose channel was removed from the rule fails at once instead of retrying', async () => {
    const event = await fire([{ kind: 'webhook', url: `${base}/ok` }]);
    await pool.query(
      "UPDATE alert_rules SET channels = '[]' WHERE id = (SELECT rule_id FROM alert_events WHERE id = $1)",
      [event],
    );
    await deliverDue(pool, bus, { eventId: event });
    const [row] = await deliveries(event);
    expect([row!.status, row!.attempts, row!.error]).toEqual(['failed', 1, 'channel no longer configured on the rule']);
    expect(received.get('/ok') ?? []).toHaveLength(0);
  });

  it('senders running side by side (two worker processes) send each delivery once', async () => {
    const events = await Promise.all(Array.from({ length: 10 }, () => fire([{ kind: 'webhook', url: `${base}/ok` }])));
    await Promise.all(Array.from({ length: 4 }, () => deliverDue(pool, bus)));
    const sent = (received.get('/ok') ?? []).map((r) => r.id).sort();
    expect(sent).toEqual([...events].sort());
    for (const e of events) expect((await deliveries(e)).map((r) => [r.status, r.attempts])).toEqual([['ok', 1]]);
  });
});
