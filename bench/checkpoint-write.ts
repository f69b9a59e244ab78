// What one checkpoint write costs PostgreSQL as a job's state grows, run as
// `npm run bench -- checkpoint-write [--visits 1000,10000,30000] [--rounds 7]` (DATABASE_URL, or
// an embedded PostgreSQL started for the run: bench/support/services.ts).
//
// The sessions job stores its whole operator state — every open visit, kept for its 30-minute gap
// — in consumer_progress.state with every batch (workers/consumer/checkpoint.ts), in the batch's
// transaction. This builds that state the way the job does (the job's session-stats aggregate in
// a session-window operator with early firings and retractions, three pageviews per visit, the
// checkpoint in the job's form) for N open visits, then times the job's UPDATE of one
// progress row in a migrated database, side by side in the same run:
//   - baseline: a copy of the table with the column as jsonb (the schema before 20261210000000_progress_state_json), which
//     PostgreSQL parses and re-encodes on every write;
//   - current: consumer_progress itself, the column json, stored as the text the worker sent (TOAST still compresses it).
// It also times the read a restoring worker does (SELECT state, parsed by node-postgres).
// Human-readable lines first; the last line is one JSON object.

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { EventRecord } from '../lib/events/record';
import { earlyFiringTrigger, sessionWindows, windowOperator } from '../lib/stream';
import { sessionStatsAggregate, type SessionStats } from '../workers/sessions/session-stats';
import { flag, flagList } from './support/args';
import { benchServices, freshBenchDatabase } from './support/services';

const VISITS = flagList('visits', [1000, 10_000, 30_000]);
const ROUNDS = flag('rounds', 7, { integer: true });
const GAP = 30 * 60_000;
const T0 = Date.UTC(2026, 2, 10, 14, 0, 0); // a fixed instant: no wall clock in the data
const SITES = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];
const PATHS = ['/', '/pricing', '/docs/getting-started', '/blog/real-time-analytics', '/signup'];
const REFERRERS = [undefined, 'www.google.com', 'news.ycombinator.com', 'duckduckgo.com'];

/** The sessions job's checkpoint for `visits` open visits, as the JSON text it writes. */
function checkpointText(visits: number): string {
  const op = windowOperator<EventRecord, SessionStats, SessionStats>(sessionWindows(GAP), sessionStatsAggregate(), {
    outOfOrdernessMs: 5_000,
    allowedLatenessMs: 60_000,
    trigger: earlyFiringTrigger({ everyBatch: true }),
    accumulation: 'accumulating-and-retracting',
  });
  op.addPartition(0);
  for (let page = 0; page < 3; page++) {
    for (let v = 0; v < visits; v++) {
      const ts = T0 + v * 37 + page * 45_000;
      const siteId = SITES[v % SITES.length]!;
      const path = PATHS[(v + page) % PATHS.length]!;
      const referrerHost = page === 0 ? REFERRERS[v % REFERRERS.length] : undefined;
      const record: EventRecord = {
        v: 1,
        eventId: randomUUID(),
        siteId,
        visitorId: `visitor-${v.toString(36)}-${(v * 7919).toString(36)}`,
        name: 'pageview',
        url: `https://example.test${path}`,
        hostname: 'example.test',
        path,
        ...(referrerHost ? { referrerHost } : {}),
        channel: referrerHost ? 'search' : page === 0 ? 'direct' : 'internal',
        device: v % 3 === 0 ? 'mobile' : 'desktop',
        browser: v % 2 ? 'Chrome' : 'Firefox',
        os: v % 2 ? 'Windows' : 'macOS',
        country: v % 5 ? 'DE' : 'US',
        ts,
      };
      op.process(0, `${siteId}|${record.visitorId}`, ts, record); // the job's key
    }
    // One batch per round of pageviews: early firings mark what each visit emitted.
    op.advanceWatermark();
  }
  return JSON.stringify({ v: 2, operators: [[GAP, op.snapshot()]], dimensionVersion: 1 });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const services = await benchServices({ kafka: false });
  const db = await freshBenchDatabase(services.adminUrl, 'checkpoint');
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const results: {
    visits: number;
    checkpoint_bytes: number;
    jsonb_write_ms: number;
    json_write_ms: number;
    jsonb_read_ms: number;
    json_read_ms: number;
    jsonb_stored_bytes: number;
    json_stored_bytes: number;
  }[] = [];
  try {
    // The migrated database's own consumer_progress (json) and a copy of it with the column as
    // it was before 20261210000000_progress_state_json (jsonb).
    await c.query('CREATE TABLE progress_jsonb (LIKE consumer_progress INCLUDING ALL)');
    await c.query('ALTER TABLE progress_jsonb ALTER COLUMN state TYPE jsonb');
    for (const table of ['progress_jsonb', 'consumer_progress'])
      await c.query(`INSERT INTO ${table} (job, topic, partition, next_offset) VALUES ('sessions', 'events', 0, 0)`);
    const tableOf = { jsonb: 'progress_jsonb', json: 'consumer_progress' } as const;
    console.log(
      `[checkpoint-write] ${ROUNDS} rounds per size, jsonb and json alternating; PostgreSQL ${(await c.query('SHOW server_version')).rows[0].server_version}`,
    );
    for (const visits of VISITS) {
      const text = checkpointText(visits);
      const times: Record<'jsonb' | 'json', { write: number[]; read: number[] }> = {
        jsonb: { write: [], read: [] },
        json: { write: [], read: [] },
      };
      for (let round = 0; round < ROUNDS; round++) {
        for (const type of round % 2 ? (['json', 'jsonb'] as const) : (['jsonb', 'json'] as const)) {
          const t0 = performance.now();
          // The statement of checkpointedTransaction.
          await c.query(
            `UPDATE ${tableOf[type]} SET next_offset = coalesce($4::bigint, next_offset), state = $5, version = version + 1, updated_at = now()
             WHERE job = $1 AND topic = $2 AND partition = $3 RETURNING version::text AS version`,
            ['sessions', 'events', 0, String(round), text],
          );
          times[type].write.push(performance.now() - t0);
          const t1 = performance.now();
          await c.query(
            `SELECT state FROM ${tableOf[type]} WHERE job = 'sessions' AND topic = 'events' AND partition = 0`,
          );
          times[type].read.push(performance.now() - t1);
        }
      }
      const stored = async (type: 'jsonb' | 'json') =>
        Number((await c.query(`SELECT pg_column_size(state) AS b FROM ${tableOf[type]}`)).rows[0].b);
      const r = {
        visits,
        checkpoint_bytes: Buffer.byteLength(text),
        jsonb_write_ms: round1(median(times.jsonb.write)),
        json_write_ms: round1(median(times.json.write)),
        jsonb_read_ms: round1(median(times.jsonb.read)),
        json_read_ms: round1(median(times.json.read)),
        jsonb_stored_bytes: await stored('jsonb'),
        json_stored_bytes: await stored('json'),
      };
      results.push(r);
      console.log(
        `[checkpoint-write] ${visits} open visits: checkpoint ${(r.checkpoint_bytes / 1e6).toFixed(2)} MB (${Math.round(r.checkpoint_bytes / visits)} B per visit); ` +
          `UPDATE jsonb ${r.jsonb_write_ms} ms vs json ${r.json_write_ms} ms (${round1(r.jsonb_write_ms / r.json_write_ms)}× faster); ` +
          `restore read jsonb ${r.jsonb_read_ms} ms vs json ${r.json_read_ms} ms; stored ${r.jsonb_stored_bytes} vs ${r.json_stored_bytes} bytes`,
      );
    }
  } finally {
    await c.end();
    await db.drop();
    await services.stop();
  }
  const largest = results[results.length - 1]!;
  console.log(
    JSON.stringify({
      bench: 'checkpoint-write',
      visits: largest.visits,
      checkpoint_bytes: largest.checkpoint_bytes,
      json_write_ms: largest.json_write_ms,
      jsonb_write_ms: largest.jsonb_write_ms,
      write_ratio: round1(largest.jsonb_write_ms / largest.json_write_ms),
      json_read_ms: largest.json_read_ms,
      jsonb_read_ms: largest.jsonb_read_ms,
      sizes: results,
    }),
  );
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

await main();
