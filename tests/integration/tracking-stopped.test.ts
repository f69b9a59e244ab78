import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, topics } from '@/lib/bus';
import { KafkaBus } from '@/lib/bus/kafka';
import { setEnv } from '@/lib/env';
import { eventKey, type EventRecord } from '@/lib/events/record';
import { alertsJob } from '@/workers/alerts/alerts-job';
import { rollupsJob } from '@/workers/rollups/rollups-job';
import { runJob, type RunningJob } from '@/workers/runtime';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import { eventually } from '../helpers/wait';
import { jobSettings } from './support/job-settings';

// "Tracking stopped" on a pageview-only site (the common case: no custom events at all): a steady
// pageview stream through the real rollups job on Kafka, then silence; the alerts job, on an
// injected clock, stays quiet while the window still holds traffic and fires once a whole window
// is empty. Traffic is dated around a fixed instant, so the test means the same at any hour.

const T0 = Date.parse('2026-03-10T10:00:00Z'); // the last pageview of the stream
const MINUTE = 60_000;
let d: TestDatabase;
let pool: pg.Pool;
let bus: KafkaBus;
let job: RunningJob;
let siteId: string;
let ruleId: string;

beforeAll(async () => {
  setEnv({ BUS_NAMESPACE: `stopped${randomBytes(3).toString('hex')}.`, EVENTS_PARTITIONS: '2' });
  d = await freshDatabase('tracking-stopped');
  pool = new pg.Pool({ connectionString: d.url });
  pool.on('error', () => undefined);
  const team = (await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")).rows[0]!.id;
  siteId = (await pool.query<{ id: string }>("INSERT INTO sites (id, team_id, name, domain, public_key) VALUES (gen_random_uuid(), $1, 'Blog', 'blog.test', $2) RETURNING id", [team, `k-${randomUUID()}`])).rows[0]!.id;
  ruleId = (
    await pool.query<{ id: string }>(
      `INSERT INTO alert_rules (id, site_id, name, condition, channels, for_seconds, cooldown_seconds) VALUES (gen_random_uuid(), $1, 'Tracking stopped', $2, '[]', 0, 600) RETURNING id`,
      [siteId, JSON.stringify({ type: 'tracking_stopped', minutes: 2, minUsualEvents: 1 })],
    )
  ).rows[0]!.id;
  bus = new KafkaBus(kafkaBrokers());
  await ensureTopics(bus);
  const dims = new SiteDimensionTable(pool);
  await dims.refresh();
  job = await runJob(rollupsJob({ bus, db: pool, dims, settings: jobSettings() }), bus, pool, { sessionTimeoutMs: 6000 });
}, 60_000);
afterAll(async () => {
  await job?.stop();
  await bus?.close();
  await pool?.end();
  await d?.drop();
});

describe('tracking stopped', () => {
  it('fires when a steady pageview stream stops, within its window', { timeout: 90_000 }, async () => {
    // Ten minutes of pageviews, one every 10 s, from several visitors; no custom events.
    const stream: EventRecord[] = [];
    for (let t = T0 - 10 * MINUTE, i = 0; t <= T0; t += 10_000, i++) {
      const path = ['/', '/post/1', '/post/2'][i % 3]!;
      stream.push({ v: 1, eventId: randomUUID(), siteId, visitorId: `v${i % 7}`, name: 'pageview', url: `https://blog.test${path}`, hostname: 'blog.test', path, channel: 'direct', device: 'desktop', browser: 'Firefox', os: 'Linux', ts: t, receivedAt: t });
    }
    await bus.producer().send(topics.events, stream.map((e) => ({ key: eventKey(e), value: JSON.stringify(e) })));
    await eventually(async () => (await pool.query<{ n: number }>("SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = ''", [siteId])).rows[0]!.n === stream.length, 30_000, 'stream in the rollups');

    let now = T0 + 30_000;
    const alerts = alertsJob({ db: pool, bus, intervalMs: 200, settings: jobSettings(), now: () => now, databaseUrl: d.url });
    const evaluatedAt = async () => ((await pool.query<{ state: { at?: number } | null }>('SELECT state FROM alert_rules WHERE id = $1', [ruleId])).rows[0]!.state?.at ?? 0);
    const firings = async () => (await pool.query<{ message: string }>("SELECT message FROM alert_events WHERE rule_id = $1 AND kind = 'firing'", [ruleId])).rows;
    alerts.start();
    try {
      // Still inside the window that holds the last pageviews: quiet.
      for (const t of [T0 + 30_000, T0 + 90_000]) {
        now = t;
        await eventually(async () => (await evaluatedAt()) === t, 20_000, `evaluated at T0+${(t - T0) / 1000}s`);
        expect(await firings()).toEqual([]);
      }
      // A whole 2-minute window without a pageview, against a usual ~12 per window: fires.
      now = T0 + 2 * MINUTE + 5000;
      await eventually(async () => (await firings()).length === 1, 20_000, 'tracking stopped fired');
      expect((await firings())[0]!.message).toMatch(/no pageviews or events in the last 2 min \(usually 1[0-9]/);
    } finally {
      await alerts.stop();
    }
  });
});
