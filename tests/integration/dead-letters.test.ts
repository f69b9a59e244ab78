import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, topics } from '@/lib/bus';
import { KafkaBus } from '@/lib/bus/kafka';
import { setEnv } from '@/lib/env';
import { eventKey, type EventRecord } from '@/lib/events/record';
import { rollupsJob } from '@/workers/rollups/rollups-job';
import { runJob, type RunningJob } from '@/workers/runtime';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import { eventually } from '../helpers/wait';

// A poison record produced straight to the topic lands in dead_letters with its original bytes,
// key and the reason, is booked in the ledger, and the partition keeps flowing.

let d: TestDatabase;
let pool: pg.Pool;
let bus: KafkaBus;
let job: RunningJob;
let siteId: string;

beforeAll(async () => {
  setEnv({ BUS_NAMESPACE: `dlq${randomBytes(3).toString('hex')}.`, EVENTS_PARTITIONS: '1' });
  d = await freshDatabase('dlq');
  pool = new pg.Pool({ connectionString: d.url });
  pool.on('error', () => undefined);
  const team = (await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")).rows[0]!.id;
  siteId = (await pool.query<{ id: string }>("INSERT INTO sites (id, team_id, name, domain, public_key) VALUES (gen_random_uuid(), $1, 's', 's.test', $2) RETURNING id", [team, `k-${randomUUID()}`])).rows[0]!.id;
  bus = new KafkaBus(kafkaBrokers());
  await ensureTopics(bus);
  const dims = new SiteDimensionTable(pool);
  await dims.refresh();
  job = await runJob(rollupsJob({ bus, db: pool, dims }), bus, pool, { sessionTimeoutMs: 6000 });
}, 60_000);
afterAll(async () => {
  await job?.stop();
  await bus?.close();
  await pool?.end();
  await d?.drop();
});

describe('dead letters', () => {
  it('keeps the original bytes, key and reason of unreadable records and keeps the partition flowing', { timeout: 60_000 }, async () => {
    const good = (path: string): EventRecord => ({
      v: 1, eventId: randomUUID(), siteId, visitorId: 'v', name: 'pageview', url: `https://s.test${path}`, hostname: 's.test', path,
      channel: 'direct', device: 'desktop', browser: 'Chrome', os: 'Linux', ts: Date.now(),
    });
    const before = good('/before');
    const after = good('/after');
    const garbage = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    await bus.producer().send(topics.events, [
      { key: eventKey(before), value: JSON.stringify(before) },
      { key: 'poison-1', value: garbage },
      { key: 'poison-2', value: JSON.stringify({ v: 2, hello: 'from the future' }) },
      { key: eventKey(after), value: JSON.stringify(after) },
    ]);
    await eventually(async () => (await pool.query("SELECT count(*)::int AS n FROM events")).rows[0].n === 2, 30_000, 'both good events applied');
    const dl = await pool.query<{ key: Buffer; value: Buffer; reason: string; offset: string }>('SELECT key, value, reason, "offset"::text FROM dead_letters ORDER BY "offset"');
    expect(dl.rows.map((r) => r.key.toString())).toEqual(['poison-1', 'poison-2']);
    expect(dl.rows[0]!.value.equals(garbage)).toBe(true);
    expect(dl.rows[0]!.reason).toBe('value is not JSON');
    expect(dl.rows[1]!.reason).toMatch(/^not an event record: v:/);
    const ledger = await pool.query<{ n: number }>('SELECT COALESCE(sum(dead_lettered), 0)::int AS n FROM ingestion_ledger');
    expect(ledger.rows[0]!.n).toBe(2);
    const pv = await pool.query<{ n: number }>("SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE granularity = 'minute' AND dimension = ''");
    expect(pv.rows[0]!.n).toBe(2);
  });
});
