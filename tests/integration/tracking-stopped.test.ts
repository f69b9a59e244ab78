import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@/lib/bus';
import type { KafkaBus } from '@/lib/bus/kafka';
import { eventKey, type EventRecord } from '@/lib/events/record';
import { alertsJob } from '@/workers/alerts/alerts-job';
import { eventually } from '../helpers/wait';
import { jobSettings } from './support/job-settings';
import { insertSite, startRollupsOnKafka, type RollupsOnKafka } from './support/rollups-on-kafka';

// "Tracking stopped" on a pageview-only site (the common case: no custom events at all): a steady
// pageview stream through the real rollups job on Kafka, then silence; the alerts job, on an
// injected clock, stays quiet while the window still holds traffic and fires once a whole window
// is empty. Traffic is dated around a fixed instant, so the test means the same at any hour.

const T0 = Date.parse('2026-03-10T10:00:00Z'); // the steady stream's last pageview
const LAST = T0 + 50_000; // one more, the very last
const MINUTE = 60_000;
let stack: RollupsOnKafka;
let pool: pg.Pool;
let bus: KafkaBus;
let siteId: string;
let ruleId: string;

beforeAll(async () => {
  stack = await startRollupsOnKafka({
    name: 'stopped',
    partitions: 2,
    seed: async (p, team) => {
      siteId = await insertSite(p, team, 'Blog', 'blog.test');
      ruleId = (
        await p.query<{ id: string }>(
          `INSERT INTO alert_rules (id, site_id, name, condition, channels, for_seconds, cooldown_seconds) VALUES (gen_random_uuid(), $1, 'Tracking stopped', $2, '[]', 0, 600) RETURNING id`,
          [siteId, JSON.stringify({ type: 'tracking_stopped', minutes: 2, minUsualEvents: 1 })],
        )
      ).rows[0]!.id;
    },
  });
  ({ pool, bus } = stack);
}, 60_000);
afterAll(() => stack?.stop());

describe('tracking stopped', () => {
  it('fires when a steady pageview stream stops, within its window', { timeout: 90_000 }, async () => {
    // Ten minutes of pageviews, one every 10 s, from several visitors; no custom events.
    const stream: EventRecord[] = [];
    for (let t = T0 - 10 * MINUTE, i = 0; t <= T0; t += 10_000, i++) {
      const path = ['/', '/post/1', '/post/2'][i % 3]!;
      stream.push({
        v: 1,
        eventId: randomUUID(),
        siteId,
        visitorId: `v${i % 7}`,
        name: 'pageview',
        url: `https://blog.test${path}`,
        hostname: 'blog.test',
        path,
        channel: 'direct',
        device: 'desktop',
        browser: 'Firefox',
        os: 'Linux',
        ts: t,
        receivedAt: t,
      });
    }
    // The very last one 50 s into the next minute: a window of whole minutes fired 68 s after a
    // pageview like this one (a user-eyes check), where the rule says 2 minutes.
    stream.push({ ...stream[stream.length - 1]!, eventId: randomUUID(), ts: LAST, receivedAt: LAST });
    await bus.producer().send(
      topics.events,
      stream.map((e) => ({ key: eventKey(e), value: JSON.stringify(e) })),
    );
    await eventually(
      async () =>
        (
          await pool.query<{ n: number }>(
            "SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = ''",
            [siteId],
          )
        ).rows[0]!.n === stream.length,
      30_000,
      'stream in the rollups',
    );

    let now = T0 + 30_000;
    const alerts = alertsJob({
      db: pool,
      bus,
      intervalMs: 200,
      settings: jobSettings(),
      now: () => now,
      databaseUrl: stack.db.url,
    });
    const evaluatedAt = async () =>
      (await pool.query<{ state: { at?: number } | null }>('SELECT state FROM alert_rules WHERE id = $1', [ruleId]))
        .rows[0]!.state?.at ?? 0;
    const firings = async () =>
      (
        await pool.query<{ message: string }>(
          "SELECT message FROM alert_events WHERE rule_id = $1 AND kind = 'firing'",
          [ruleId],
        )
      ).rows;
    alerts.start();
    try {
      // Still inside the window that holds the last pageviews: quiet.
      for (const t of [T0 + 30_000, T0 + 90_000]) {
        now = t;
        await eventually(async () => (await evaluatedAt()) === t, 20_000, `evaluated at T0+${(t - T0) / 1000}s`);
        expect(await firings()).toEqual([]);
      }
      // Two whole minute rows empty, but the last pageview only 75 s ago: still quiet.
      now = T0 + 2 * MINUTE + 5000;
      await eventually(async () => (await evaluatedAt()) === now, 20_000, 'evaluated at T0+125s');
      expect(await firings()).toEqual([]);
      // Two whole minutes without a pageview, against a usual ~12 per window: fires.
      now = LAST + 2 * MINUTE + 5000;
      await eventually(async () => (await firings()).length === 1, 20_000, 'tracking stopped fired');
      expect((await firings())[0]!.message).toMatch(/no pageviews or events in the last 2 min \(usually 1[0-9]/);
    } finally {
      await alerts.stop();
    }
  });
});
