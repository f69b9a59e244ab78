import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, topics } from '@/lib/bus';
import { KafkaBus } from '@/lib/bus/kafka';
import { setEnv } from '@/lib/env';
import { eventKey, type EventRecord } from '@/lib/events/record';
import { rollupsJob } from '@/workers/rollups/rollups-job';
import { runJob, type Job, type RunningJob } from '@/workers/runtime';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import { eventually } from '../helpers/wait';
import { jobSettings } from './support/job-settings';

// The ingestion ledger's "duplicates removed" is what the rollups job actually dropped, per site:
// re-sends of applied events and twins inside one batch count, a batch that was rolled back and
// applied again one record at a time counts its duplicates once. Real Kafka, real PostgreSQL.

let d: TestDatabase;
let pool: pg.Pool;
let bus: KafkaBus;
let job: RunningJob;
const sites: string[] = [];

beforeAll(async () => {
  setEnv({ BUS_NAMESPACE: `ledger${randomBytes(3).toString('hex')}.`, EVENTS_PARTITIONS: '1' });
  d = await freshDatabase('ledger');
  pool = new pg.Pool({ connectionString: d.url });
  pool.on('error', () => undefined);
  const team = (await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")).rows[0]!.id;
  for (const name of ['a', 'b']) {
    sites.push((await pool.query<{ id: string }>("INSERT INTO sites (id, team_id, name, domain, public_key) VALUES (gen_random_uuid(), $1, $2, 's.test', $3) RETURNING id", [team, name, `k-${randomUUID()}`])).rows[0]!.id);
  }
  bus = new KafkaBus(kafkaBrokers());
  await ensureTopics(bus);
  const dims = new SiteDimensionTable(pool);
  await dims.refresh();
  // The real rollups job; a record named "poison" fails in the job's code, which makes the runtime
  // roll the batch back and apply it again one record at a time.
  const real = rollupsJob({ bus, db: pool, dims, settings: jobSettings() });
  const wrapped: Job<EventRecord> = {
    ...real,
    async apply(tx, partition, records) {
      if (records.some((r) => r.record.name === 'poison')) throw new TypeError('poison record');
      return real.apply(tx, partition, records);
    },
  };
  job = await runJob(wrapped, bus, pool, { sessionTimeoutMs: 6000 });
}, 60_000);
afterAll(async () => {
  await job?.stop();
  await bus?.close();
  await pool?.end();
  await d?.drop();
});

const ev = (site: string, path: string, name = 'pageview'): EventRecord => ({
  v: 1, eventId: randomUUID(), siteId: site, visitorId: `v-${path}`, name, url: `https://s.test${path}`, hostname: 's.test', path,
  channel: 'direct', device: 'desktop', browser: 'Chrome', os: 'Linux', ts: Date.now(),
});
const send = (records: EventRecord[]) => bus.producer().send(topics.events, records.map((e) => ({ key: eventKey(e), value: JSON.stringify(e) })));
const applied = (e: EventRecord) => eventually(async () => (await pool.query('SELECT 1 FROM events WHERE event_id = $1', [e.eventId])).rowCount === 1, 30_000, `${e.path} applied`);
const duplicates = async (site: string) => (await pool.query<{ n: number }>('SELECT COALESCE(sum(duplicates), 0)::int AS n FROM ingestion_ledger WHERE site_id = $1', [site])).rows[0]!.n;

describe('ingestion ledger', () => {
  it('counts the duplicates the rollups job dropped, under their site, once', { timeout: 60_000 }, async () => {
    const [a, b] = sites as [string, string];
    const e1 = ev(a, '/1');
    const e2 = ev(a, '/2');
    const e3 = ev(b, '/3');
    await send([e1, e2, e3]);
    await applied(e3);
    expect(await duplicates(a)).toBe(0);

    // Re-sends of applied events (a tracker retry whose first attempt had landed), and a twin in one batch.
    const e4 = ev(a, '/4');
    const marker = ev(b, '/marker');
    await send([e1, e3, e4, e4, marker]);
    await applied(marker);
    expect(await duplicates(a)).toBe(2);
    expect(await duplicates(b)).toBe(1);

    // A batch that fails on a poison record is rolled back (its bookings with it) and applied
    // record by record: the re-send of e2 in it is booked once.
    const poison = ev(a, '/poison', 'poison');
    const e5 = ev(a, '/5');
    await send([e2, poison, e5]);
    await applied(e5);
    await eventually(async () => (await pool.query("SELECT 1 FROM dead_letters WHERE reason LIKE 'apply failed:%'")).rowCount === 1, 30_000, 'poison dead-lettered');
    expect(await duplicates(a)).toBe(3);
    expect(await duplicates(b)).toBe(1);
    // What was kept: one row per event id.
    const stored = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    expect(stored.rows[0]!.n).toBe(6);
  });
});
