import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@/lib/bus';
import type { KafkaBus } from '@/lib/bus/kafka';
import { eventKey, type EventRecord } from '@/lib/events/record';
import type { RunningJob } from '@/workers/runtime';
import { eventually } from '../helpers/wait';
import { insertSite, startRollupsOnKafka, type RollupsOnKafka } from './support/rollups-on-kafka';

// A poison record produced straight to the topic lands in dead_letters with its original bytes,
// key and the reason, is booked in the ledger, and the partition keeps flowing. So does a record
// that decodes but fails to *apply* (issue 13: one such record used to crash-loop the worker and
// freeze its partition): the rest of its batch is applied, each event counted once.

let stack: RollupsOnKafka;
let pool: pg.Pool;
let bus: KafkaBus;
let job: RunningJob;
let siteId: string;
const poisonCount = { sql: 0, code: 0 };

beforeAll(async () => {
  stack = await startRollupsOnKafka({
    name: 'dlq',
    partitions: 1,
    seed: async (p, team) => {
      siteId = await insertSite(p, team, 's', 's.test');
    },
    // The real rollups job, except that two marked records fail the way data can make a job fail: a
    // value PostgreSQL refuses (SQLSTATE 22P02), and an exception thrown by the job's own code.
    beforeApply: async (tx, _partition, records) => {
      for (const r of records) {
        if (r.record.name === 'poison-sql') {
          poisonCount.sql++;
          await tx.query('SELECT $1::int', [r.record.props?.n ?? 'not a number']);
        }
        if (r.record.name === 'poison-code') {
          poisonCount.code++;
          throw new TypeError(`Cannot read properties of undefined (reading 'x')`);
        }
      }
    },
  });
  ({ pool, bus, job } = stack);
}, 60_000);
afterAll(() => stack?.stop());

describe('dead letters', () => {
  it(
    'keeps the original bytes, key and reason of unreadable records and keeps the partition flowing',
    { timeout: 60_000 },
    async () => {
      const good = (path: string): EventRecord => ({
        v: 1,
        eventId: randomUUID(),
        siteId,
        visitorId: 'v',
        name: 'pageview',
        url: `https://s.test${path}`,
        hostname: 's.test',
        path,
        channel: 'direct',
        device: 'desktop',
        browser: 'Chrome',
        os: 'Linux',
        ts: Date.now(),
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
      await eventually(
        async () => (await pool.query('SELECT count(*)::int AS n FROM events')).rows[0].n === 2,
        30_000,
        'both good events applied',
      );
      const dl = await pool.query<{ key: Buffer; value: Buffer; reason: string; offset: string }>(
        'SELECT key, value, reason, "offset"::text FROM dead_letters ORDER BY "offset"',
      );
      expect(dl.rows.map((r) => r.key.toString())).toEqual(['poison-1', 'poison-2']);
      expect(dl.rows[0]!.value.equals(garbage)).toBe(true);
      expect(dl.rows[0]!.reason).toBe('value is not JSON');
      expect(dl.rows[1]!.reason).toMatch(/^not an event record: v:/);
      const ledger = await pool.query<{ n: number }>(
        'SELECT COALESCE(sum(dead_lettered), 0)::int AS n FROM ingestion_ledger',
      );
      expect(ledger.rows[0]!.n).toBe(2);
      const pv = await pool.query<{ n: number }>(
        "SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE granularity = 'minute' AND dimension = ''",
      );
      expect(pv.rows[0]!.n).toBe(2);
    },
  );

  it(
    'dead-letters a record that fails to apply with its site and reason, applies the rest of its batch, and keeps the worker running',
    { timeout: 60_000 },
    async () => {
      const at = Date.now();
      const ev = (name: string, path: string, extra: Partial<EventRecord> = {}): EventRecord => ({
        v: 1,
        eventId: randomUUID(),
        siteId,
        visitorId: 'v2',
        name,
        url: `https://s.test${path}`,
        hostname: 's.test',
        path,
        channel: 'direct',
        device: 'desktop',
        browser: 'Chrome',
        os: 'Linux',
        ts: at,
        ...extra,
      });
      const batch = [
        ev('pageview', '/a'),
        ev('poison-sql', '/b'),
        ev('pageview', '/c'),
        ev('poison-code', '/d'),
        ev('pageview', '/e'),
      ];
      const before = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;
      // One send, one partition: the records arrive as one batch (or a few), poison in the middle.
      await bus.producer().send(
        topics.events,
        batch.map((e) => ({ key: eventKey(e), value: JSON.stringify(e) })),
      );
      await eventually(
        async () => (await pool.query('SELECT count(*)::int AS n FROM events')).rows[0].n === before + 3,
        30_000,
        'the three good events applied',
      );
      const dl = await pool.query<{ reason: string; site_id: string; value: Buffer }>(
        'SELECT reason, site_id, value FROM dead_letters WHERE reason LIKE \'apply failed:%\' ORDER BY "offset"',
      );
      expect(dl.rows.map((r) => JSON.parse(r.value.toString()).name)).toEqual(['poison-sql', 'poison-code']);
      expect(dl.rows[0]!.reason).toMatch(/^apply failed: invalid input syntax for type integer/);
      expect(dl.rows[1]!.reason).toMatch(/^apply failed: Cannot read properties/);
      expect(dl.rows.every((r) => r.site_id === siteId)).toBe(true);
      // Booked against the site, so its owner sees it in the ledger.
      const ledger = await pool.query<{ n: number }>(
        'SELECT COALESCE(sum(dead_lettered), 0)::int AS n FROM ingestion_ledger WHERE site_id = $1',
        [siteId],
      );
      expect(ledger.rows[0]!.n).toBe(2);
      // Each good event counted exactly once although its batch was applied twice (whole, then one by one).
      const stored = await pool.query<{ path: string; n: number }>(
        "SELECT record->>'path' AS path, count(*)::int AS n FROM events WHERE visitor_id = 'v2' GROUP BY 1 ORDER BY 1",
      );
      expect(stored.rows).toEqual([
        { path: '/a', n: 1 },
        { path: '/c', n: 1 },
        { path: '/e', n: 1 },
      ]);
      const minute = new Date(Math.floor(at / 60_000) * 60_000).toISOString();
      const pv = await pool.query<{ n: number }>(
        "SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE granularity = 'minute' AND dimension = 'page' AND value = ANY($1) AND bucket = $2",
        [['/a', '/c', '/e'], minute],
      );
      expect(pv.rows[0]!.n).toBe(3);
      // Each poison record was tried once in its batch and once alone: no retry loop.
      expect(poisonCount.sql).toBeLessThanOrEqual(4);
      // The partition keeps flowing: a later event is applied.
      const later = ev('pageview', '/later');
      await bus.producer().send(topics.events, [{ key: eventKey(later), value: JSON.stringify(later) }]);
      await eventually(
        async () => (await pool.query('SELECT 1 FROM events WHERE event_id = $1', [later.eventId])).rowCount === 1,
        30_000,
        'a later event applied',
      );
      expect(
        await Promise.race([
          job.consumer.crashed.then(() => 'crashed'),
          new Promise((r) => setTimeout(() => r('running'), 200)),
        ]),
      ).toBe('running');
    },
  );

  it(
    'stores NUL and lone surrogates from another producer as U+FFFD instead of failing on them, and dead-letters a path too large to index',
    { timeout: 60_000 },
    async () => {
      const at = Date.now();
      const hostile: EventRecord = {
        v: 1,
        eventId: randomUUID(),
        siteId,
        visitorId: 'v3',
        name: 'sign\u0000up',
        url: 'https://s.test/x',
        hostname: 's.test',
        path: '/x\u0000\ud800',
        channel: 'direct',
        device: 'desktop',
        browser: 'Chrome',
        os: 'Linux',
        ts: at,
        props: { 'k\u0000': 'v\udc00', plan: '\u202egnp.exe' },
        utm: { source: '\u0000' },
      };
      // 2000 characters of three-byte CJK: a 6 kB path no index row holds.
      const wide = (() => {
        let s = '/';
        for (let i = 0; s.length < 2000; i++) s += String.fromCharCode(0x4e00 + ((i * 7919) % 20000));
        return s;
      })();
      const tooWide: EventRecord = {
        ...hostile,
        eventId: randomUUID(),
        name: 'pageview',
        path: wide,
        props: undefined,
        utm: undefined,
      };
      await bus.producer().send(
        topics.events,
        [hostile, tooWide].map((e) => ({ key: eventKey(e), value: JSON.stringify(e) })),
      );
      await eventually(
        async () => (await pool.query('SELECT 1 FROM events WHERE event_id = $1', [hostile.eventId])).rowCount === 1,
        30_000,
        'the hostile event applied',
      );
      const row = (
        await pool.query<{ name: string; record: EventRecord }>('SELECT name, record FROM events WHERE event_id = $1', [
          hostile.eventId,
        ])
      ).rows[0]!;
      expect(row.name).toBe('sign\ufffdup');
      expect(row.record.path).toBe('/x\ufffd\ufffd');
      expect(row.record.props).toEqual({ 'k\ufffd': 'v\ufffd', plan: '\u202egnp.exe' });
      expect(row.record.utm).toEqual({ source: '\ufffd' });
      await eventually(
        async () =>
          (await pool.query('SELECT 1 FROM dead_letters WHERE value = $1', [Buffer.from(JSON.stringify(tooWide))]))
            .rowCount === 1,
        30_000,
        'the wide path dead-lettered',
      );
      const reason = (
        await pool.query<{ reason: string }>('SELECT reason FROM dead_letters WHERE value = $1', [
          Buffer.from(JSON.stringify(tooWide)),
        ])
      ).rows[0]!.reason;
      expect(reason).toMatch(/path over 2000 bytes/);
    },
  );
});
