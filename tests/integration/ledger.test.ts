import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@/lib/bus';
import type { KafkaBus } from '@/lib/bus/kafka';
import { eventKey, type EventRecord } from '@/lib/events/record';
import { eventually } from '../helpers/wait';
import { insertSite, startRollupsOnKafka, type RollupsOnKafka } from './support/rollups-on-kafka';

// The ingestion ledger's "duplicates removed" is what the rollups job actually dropped, per site:
// re-sends of applied events and twins inside one batch count, a batch that was rolled back and
// applied again one record at a time counts its duplicates once. Real Kafka, real PostgreSQL.

let stack: RollupsOnKafka;
let pool: pg.Pool;
let bus: KafkaBus;
const sites: string[] = [];

beforeAll(async () => {
  stack = await startRollupsOnKafka({
    name: 'ledger',
    partitions: 1,
    seed: async (p, team) => {
      for (const name of ['a', 'b']) sites.push(await insertSite(p, team, name, 's.test'));
    },
    // The real rollups job; a record named "poison" fails in the job's code, which makes the runtime
    // roll the batch back and apply it again one record at a time.
    beforeApply: async (_tx, _partition, records) => {
      if (records.some((r) => r.record.name === 'poison')) throw new TypeError('poison record');
    },
  });
  ({ pool, bus } = stack);
}, 60_000);
afterAll(() => stack?.stop());

const ev = (site: string, path: string, name = 'pageview'): EventRecord => ({
  v: 1,
  eventId: randomUUID(),
  siteId: site,
  visitorId: `v-${path}`,
  name,
  url: `https://s.test${path}`,
  hostname: 's.test',
  path,
  channel: 'direct',
  device: 'desktop',
  browser: 'Chrome',
  os: 'Linux',
  ts: Date.now(),
});
const send = (records: EventRecord[]) =>
  bus.producer().send(
    topics.events,
    records.map((e) => ({ key: eventKey(e), value: JSON.stringify(e) })),
  );
const applied = (e: EventRecord) =>
  eventually(
    async () => (await pool.query('SELECT 1 FROM events WHERE event_id = $1', [e.eventId])).rowCount === 1,
    30_000,
    `${e.path} applied`,
  );
const duplicates = async (site: string) =>
  (
    await pool.query<{ n: number }>(
      'SELECT COALESCE(sum(duplicates), 0)::int AS n FROM ingestion_ledger WHERE site_id = $1',
      [site],
    )
  ).rows[0]!.n;

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
    await eventually(
      async () => (await pool.query("SELECT 1 FROM dead_letters WHERE reason LIKE 'apply failed:%'")).rowCount === 1,
      30_000,
      'poison dead-lettered',
    );
    expect(await duplicates(a)).toBe(3);
    expect(await duplicates(b)).toBe(1);
    // What was kept: one row per event id.
    const stored = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    expect(stored.rows[0]!.n).toBe(6);
  });
});
