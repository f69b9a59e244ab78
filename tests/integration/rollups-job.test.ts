import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@/lib/bus';
import { KafkaBus } from '@/lib/bus/kafka';
import { eventKey, type EventRecordInput as EventRecord } from '@/lib/events/record';
import { minuteRollupsJob } from '@/workers/rollups/minute-rollups';
import { runJob } from '@/workers/runtime';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import { eventually } from '../helpers/wait';

// The minute-rollups job on real Kafka and PostgreSQL: every event counted exactly once even
// when the producer re-sends it, when the job restarts, and when its progress rows are lost and
// the whole topic is replayed.

let database: TestDatabase;
let pool: pg.Pool;
let bus: KafkaBus;
let siteId: string;
const topic = `rollups-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  database = await freshDatabase('rollups');
  pool = new pg.Pool({ connectionString: database.url });
  pool.on('error', () => undefined);
  const t = await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id");
  const s = await pool.query<{ id: string }>("INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames) VALUES (gen_random_uuid(), $1, 's', 's.test', $2, '{}') RETURNING id", [
    t.rows[0]!.id,
    `k-${randomUUID()}`,
  ]);
  siteId = s.rows[0]!.id;
  bus = new KafkaBus(kafkaBrokers());
  await bus.createTopics([{ name: topic, partitions: 3 }, { name: topics.live, partitions: 1 }]);
});
afterAll(async () => {
  await bus?.close();
  await pool?.end();
  await database?.drop();
});

const MINUTE = 60_000;
const base = Date.UTC(2026, 10, 21, 10, 0, 0);

function events(n: number): EventRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    v: 1 as const,
    eventId: randomUUID(),
    siteId,
    visitorId: `v${i % 13}`,
    name: i % 5 === 0 ? 'signup' : 'pageview',
    url: `http://s.test/p${i % 4}`,
    ts: base + (i % 3) * MINUTE + i,
  }));
}

async function rollups(): Promise<Map<number, { pageviews: number; events: number }>> {
  const r = await pool.query<{ minute: Date; pageviews: number; events: number }>('SELECT minute, pageviews, events FROM rollups_minute WHERE site_id = $1', [siteId]);
  return new Map(r.rows.map((x) => [x.minute.getTime(), { pageviews: x.pageviews, events: x.events }]));
}

function truth(list: EventRecord[]): Map<number, { pageviews: number; events: number }> {
  const m = new Map<number, { pageviews: number; events: number }>();
  for (const e of list) {
    const k = Math.floor(e.ts / MINUTE) * MINUTE;
    const v = m.get(k) ?? { pageviews: 0, events: 0 };
    v.events++;
    if (e.name === 'pageview') v.pageviews++;
    m.set(k, v);
  }
  return m;
}

const produce = (list: EventRecord[]) => bus.producer().send(topic, list.map((e) => ({ key: eventKey(e), value: JSON.stringify(e) })));
const applied = async () => Number((await pool.query<{ n: string }>('SELECT COALESCE(sum(next_offset), 0)::text AS n FROM consumer_progress WHERE topic = $1', [topic])).rows[0]!.n);

describe('minute rollups job', () => {
  it('counts every event exactly once through re-sends, a restart and a full replay', async () => {
    const job = { ...minuteRollupsJob(bus), topic };
    const sent = events(120);
    await produce(sent);
    await produce(sent.slice(0, 20)); // a producer retry re-sends 20 events with the same ids
    let running = await runJob(job, bus, pool, { sessionTimeoutMs: 6000 });
    await eventually(async () => (await applied()) === 140, 60_000, 'all 140 records applied');
    expect(await rollups()).toEqual(truth(sent));

    // Restart: positions come from consumer_progress; nothing is applied twice.
    await running.stop();
    const more = events(30);
    await produce(more);
    running = await runJob(job, bus, pool, { sessionTimeoutMs: 6000 });
    await eventually(async () => (await applied()) === 170, 60_000, 'restarted job applied the 30 new records');
    expect(await rollups()).toEqual(truth([...sent, ...more]));

    // Progress lost: the whole topic is replayed; event-id dedup keeps the counts exact.
    await running.stop();
    await pool.query('DELETE FROM consumer_progress WHERE topic = $1', [topic]);
    await pool.query("DELETE FROM consumer_progress WHERE job = 'rollups'");
    const replay = await runJob({ ...job }, bus, pool, { sessionTimeoutMs: 6000 });
    for (const tp of replay.consumer.assignment()) await replay.consumer.seek(tp.topic, tp.partition, 'earliest');
    await eventually(async () => (await applied()) === 170, 60_000, 'replayed all 170 records');
    expect(await rollups()).toEqual(truth([...sent, ...more]));
    expect(Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0]!.n)).toBe(150);
    await replay.stop();
  });
});
