import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type pg from 'pg';
import type { KafkaBus } from '@/lib/bus/kafka';
import { childEnv } from '@/lib/env';
import { partitionFor } from '@/lib/bus';
import { eventKey } from '@/lib/events/record';
import { truthSessions, type GeneratedEvent } from '../../tests/helpers/traffic';
import { spawnNode, type Child } from './processes';

// Probes of the stream pipeline (events topic → worker processes → PostgreSQL), shared by the
// e2e-latency benchmark and the job integration tests (tests/integration/jobs-crash,
// jobs-scale): worker processes, producing with delivery reports, stored progress vs the topic's
// high watermarks, and one checker that compares the rollups with ground truth. The checker
// returns its differences as sentences, so a negative control can show that it fails.

const MINUTE = 60_000;
const HOUR = 3_600_000;
export const STREAM_JOBS = ['rollups', 'sessions'] as const;

/** What the ground truth needs of an event (the generator's records satisfy it). */
export interface TruthEvent {
  eventId: string;
  siteId: string;
  visitorId: string;
  name: string;
  ts: number;
}

export interface Delivery<E> {
  event: E;
  partition: number;
  offset: bigint;
}

export function pipelineTopics(namespace: string) {
  return { events: `${namespace}events`, live: `${namespace}live`, late: `${namespace}late` };
}

export function jobGroup(namespace: string, job: string): string {
  return `${namespace}job-${job}`;
}

export async function createPipelineTopics(bus: KafkaBus, namespace: string, partitions: number): Promise<void> {
  const t = pipelineTopics(namespace);
  await bus.createTopics([
    { name: t.events, partitions },
    { name: t.live, partitions: 1 },
    { name: t.late, partitions: 1 },
  ]);
  // A just-created topic can answer "not the leader" for a moment: wait until offsets are readable.
  for (let attempt = 1; ; attempt++) {
    try {
      if ((await bus.topicOffsets(t.events)).length === partitions) return;
    } catch (e) {
      if (attempt >= 40) throw e;
    }
    await sleep(250);
  }
}

/** Produces the events as the collect endpoint does (key = site:visitor) and returns where each landed. */
export async function produceEvents<E extends TruthEvent>(
  bus: KafkaBus,
  topic: string,
  events: E[],
): Promise<Delivery<E>[]> {
  if (events.length === 0) return [];
  const reports = await bus.producer().send(
    topic,
    events.map((e) => ({ key: eventKey(e), value: JSON.stringify(e) })),
  );
  return reports.map((r, i) => ({ event: events[i]!, partition: r.partition, offset: BigInt(r.offset) }));
}

export interface WorkerProcess extends Child {
  /** Exit code and signal, once the process has ended. */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `node --import tsx workers/cli.ts <jobs…>` with the given settings, its output in `logFile`.
 * PGAPPNAME names its PostgreSQL connections (the tests' batch log attributes batches by it).
 */
export function spawnWorker(opts: {
  name: string;
  jobs: string[];
  env: Record<string, string | undefined>;
  logFile: string;
  cpu?: string;
}): WorkerProcess {
  const child = spawnNode(opts.name, ['--import', 'tsx', 'workers/cli.ts', ...opts.jobs], {
    env: childEnv({ NODE_ENV: 'test', PGAPPNAME: opts.name, ...opts.env }),
    logFile: opts.logFile,
    cpu: opts.cpu,
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.process.exitCode !== null || child.process.signalCode !== null)
      resolve({ code: child.process.exitCode, signal: child.process.signalCode });
    else child.process.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { ...child, ended };
}

export function logPath(dir: string, label: string): string {
  return path.join(dir, `${label}.log`);
}

export interface Progress {
  job: string;
  partition: number;
  nextOffset: bigint;
}

export async function storedProgress(db: pg.Pool, topic: string): Promise<Progress[]> {
  const r = await db.query<{ job: string; partition: number; next_offset: string }>(
    'SELECT job, partition, next_offset::text AS next_offset FROM consumer_progress WHERE topic = $1 ORDER BY job, partition',
    [topic],
  );
  return r.rows.map((x) => ({ job: x.job, partition: x.partition, nextOffset: BigInt(x.next_offset) }));
}

/** Events applied per job: the sum of stored next offsets (missing partitions count 0). */
export async function appliedPerJob(
  db: pg.Pool,
  topic: string,
  jobs: readonly string[] = STREAM_JOBS,
): Promise<Map<string, bigint>> {
  const progress = await storedProgress(db, topic);
  return new Map(jobs.map((j) => [j, progress.filter((p) => p.job === j).reduce((n, p) => n + p.nextOffset, 0n)]));
}

/** True when every job has stored, for every partition, the topic's high watermark as its next offset. */
export async function caughtUp(
  bus: KafkaBus,
  db: pg.Pool,
  topic: string,
  jobs: readonly string[] = STREAM_JOBS,
): Promise<boolean> {
  const [highs, progress] = await Promise.all([bus.topicOffsets(topic), storedProgress(db, topic)]);
  return jobs.every((job) =>
    highs.every(
      (h) => (progress.find((p) => p.job === job && p.partition === h.partition)?.nextOffset ?? 0n) === BigInt(h.high),
    ),
  );
}

/** Distinct events (first occurrence of each id): what must be counted, whatever was re-sent. */
export function distinct<E extends TruthEvent>(events: E[]): E[] {
  const seen = new Set<string>();
  return events.filter((e) => {
    if (seen.has(e.eventId)) return false;
    seen.add(e.eventId);
    return true;
  });
}

type Counts = { pageviews: number; events: number };
const AUTOMATIC = new Set(['pageview', 'engagement']);

function add(m: Map<string, Counts>, key: string, e: TruthEvent): void {
  const v = m.get(key) ?? { pageviews: 0, events: 0 };
  if (e.name === 'pageview') v.pageviews++;
  else if (!AUTOMATIC.has(e.name)) v.events++;
  m.set(key, v);
}

/** Ground truth per `${site}|${minute}`, per `${site}|${hour}` and per site (distinct events only). */
export function truthTotals(events: TruthEvent[]): {
  minute: Map<string, Counts>;
  hour: Map<string, Counts>;
  site: Map<string, Counts>;
} {
  const minute = new Map<string, Counts>();
  const hour = new Map<string, Counts>();
  const site = new Map<string, Counts>();
  for (const e of distinct(events)) {
    add(minute, `${e.siteId}|${Math.floor(e.ts / MINUTE) * MINUTE}`, e);
    add(hour, `${e.siteId}|${Math.floor(e.ts / HOUR) * HOUR}`, e);
    add(site, e.siteId, e);
  }
  const nonZero = (m: Map<string, Counts>) => new Map([...m].filter(([, v]) => v.pageviews || v.events));
  return { minute: nonZero(minute), hour: nonZero(hour), site };
}

/** Rollup totals (dimension '') per `${site}|${bucket}` of one granularity, summed over source partitions (or one). */
export async function rollupTotals(
  db: pg.Pool,
  granularity: 'minute' | 'hour' | 'day',
  sites: string[],
  partition?: number,
): Promise<Map<string, Counts>> {
  const r = await db.query<{ site_id: string; bucket: Date; pageviews: number; events: number }>(
    `SELECT site_id, bucket, sum(pageviews)::int AS pageviews, sum(events)::int AS events FROM rollups
     WHERE granularity = $1::"Granularity" AND dimension = '' AND site_id = ANY($2::uuid[]) AND ($3::int IS NULL OR source_partition = $3)
     GROUP BY 1, 2`,
    [granularity, sites, partition ?? null],
  );
  return new Map(
    r.rows
      .filter((x) => x.pageviews || x.events)
      .map((x) => [`${x.site_id}|${x.bucket.getTime()}`, { pageviews: x.pageviews, events: x.events }]),
  );
}

function compare(what: string, truth: Map<string, Counts>, got: Map<string, Counts>): string[] {
  const out: string[] = [];
  for (const k of new Set([...truth.keys(), ...got.keys()])) {
    const t = truth.get(k) ?? { pageviews: 0, events: 0 };
    const g = got.get(k) ?? { pageviews: 0, events: 0 };
    if (t.pageviews !== g.pageviews || t.events !== g.events) {
      const [site, bucket] = k.split('|');
      const at = bucket ? ` ${new Date(Number(bucket)).toISOString()}` : '';
      out.push(
        `${what} ${site}${at}: truth ${t.pageviews} pageviews/${t.events} events, rollups ${g.pageviews}/${g.events}`,
      );
    }
  }
  return out;
}

/**
 * Every difference between the rollups (dimension '') and the ground truth of `events`: minute
 * rows per site and minute, hour rows per site and hour, day rows per site. With `partition`,
 * only that source partition's rows (then `events` must be exactly what that partition applied).
 */
export async function rollupDifferences(
  db: pg.Pool,
  events: TruthEvent[],
  sites: string[],
  partition?: number,
): Promise<string[]> {
  const truth = truthTotals(events.filter((e) => sites.includes(e.siteId)));
  const where = partition === undefined ? '' : ` (partition ${partition})`;
  const dayPerSite = new Map<string, Counts>();
  for (const [k, v] of await rollupTotals(db, 'day', sites, partition)) {
    const s = k.split('|')[0]!;
    const d = dayPerSite.get(s) ?? { pageviews: 0, events: 0 };
    dayPerSite.set(s, { pageviews: d.pageviews + v.pageviews, events: d.events + v.events });
  }
  return [
    ...compare(`minute${where}`, truth.minute, await rollupTotals(db, 'minute', sites, partition)),
    ...compare(`hour${where}`, truth.hour, await rollupTotals(db, 'hour', sites, partition)),
    ...compare(`days${where}`, new Map([...truth.site].filter(([, v]) => v.pageviews || v.events)), dayPerSite),
  ];
}

/**
 * Every difference between the event ids each job recorded as applied and `expected`: ids
 * missing, and rows beyond the expected ones (phantoms; the table's key makes a second row for
 * one (job, id) impossible, so a re-applied event can only show up in the counts).
 */
export async function eventIdDifferences(
  db: pg.Pool,
  expected: Set<string>,
  jobs: readonly string[] = STREAM_JOBS,
): Promise<string[]> {
  const out: string[] = [];
  for (const job of jobs) {
    const r = await db.query<{ event_id: string }>('SELECT event_id FROM event_ids WHERE job = $1', [job]);
    const got = new Set(r.rows.map((x) => x.event_id));
    const missing = [...expected].filter((id) => !got.has(id));
    const phantom = [...got].filter((id) => !expected.has(id));
    if (missing.length) out.push(`${job}: ${missing.length} event id(s) never applied, e.g. ${missing[0]}`);
    if (phantom.length)
      out.push(`${job}: ${phantom.length} event id(s) applied that were never produced, e.g. ${phantom[0]}`);
    if (r.rows.length !== got.size) out.push(`${job}: ${r.rows.length - got.size} duplicate event_ids row(s)`);
  }
  return out;
}

/**
 * Offsets: every job's stored next offset equals the partition's high watermark, and the
 * consumer group's committed offset is at most that (never ahead of what the database applied).
 */
export async function offsetDifferences(
  bus: KafkaBus,
  db: pg.Pool,
  namespace: string,
  jobs: readonly string[] = STREAM_JOBS,
): Promise<string[]> {
  const topic = pipelineTopics(namespace).events;
  const [highs, progress] = await Promise.all([bus.topicOffsets(topic), storedProgress(db, topic)]);
  const out: string[] = [];
  for (const job of jobs) {
    const committed = await bus.committedOffsets(jobGroup(namespace, job), topic);
    for (const h of highs) {
      const stored = progress.find((p) => p.job === job && p.partition === h.partition)?.nextOffset ?? 0n;
      if (stored !== BigInt(h.high))
        out.push(`${job}/${h.partition}: stored next offset ${stored} ≠ high watermark ${h.high}`);
      const c = committed.find((x) => x.partition === h.partition)?.offset;
      if (c != null && BigInt(c) > BigInt(h.high))
        out.push(`${job}/${h.partition}: committed offset ${c} > high watermark ${h.high}`);
      if (c != null && BigInt(c) > stored)
        out.push(`${job}/${h.partition}: committed offset ${c} > stored next offset ${stored}`);
    }
  }
  return out;
}

/**
 * Events "now" from fresh visitors, one on each partition: they move every partition's event
 * time (watermark) to the present, so the sessions of older traffic close (fire) in the batch
 * that applies them, without waiting for the idle clock.
 */
export function clockEvents(template: GeneratedEvent, siteId: string, partitions: number): GeneratedEvent[] {
  const out: GeneratedEvent[] = [];
  for (let n = 0; out.length < partitions; n++) {
    const visitorId = `clock-${n}`;
    if (partitionFor(eventKey({ siteId, visitorId }), partitions) !== out.length) continue;
    const now = Date.now();
    out.push({
      ...template,
      eventId: randomUUID(),
      siteId,
      visitorId,
      name: 'pageview',
      url: 'https://shop.test/',
      path: '/',
      engagement: undefined,
      ts: now,
      receivedAt: now,
    });
  }
  return out;
}

/**
 * Every difference between the sessions table (for the visitors `include` accepts) and the
 * sessions counted in the minute rollups by start minute (for every visitor: visits are live, so
 * an open one — e.g. a clock visitor's — counts from its first pageview), and sessions by
 * definition of the distinct `events` with gap `gapMs`.
 */
export async function sessionDifferences(
  db: pg.Pool,
  events: GeneratedEvent[],
  sites: string[],
  gapMs: number,
  include: (visitorId: string) => boolean,
): Promise<string[]> {
  const truth = truthSessions(
    distinct(events).filter((e) => sites.includes(e.siteId) && include(e.visitorId)),
    gapMs,
  );
  const norm = (x: {
    siteId: string;
    visitorId: string;
    start: number;
    end: number;
    pageviews: number;
    events: number;
    entryPath: string;
    exitPath: string;
  }) =>
    `${x.siteId.slice(0, 8)} ${x.visitorId} ${new Date(x.start).toISOString()}…${new Date(x.end).toISOString()} ${x.pageviews} pageviews ${x.events} events ${x.entryPath}→${x.exitPath}`;
  const r = await db.query<{
    site_id: string;
    visitor_id: string;
    started_at: Date;
    ended_at: Date;
    pageviews: number;
    events: number;
    entry_path: string;
    exit_path: string;
  }>(
    'SELECT site_id, visitor_id, started_at, ended_at, pageviews, events, entry_path, exit_path FROM sessions WHERE site_id = ANY($1::uuid[])',
    [sites],
  );
  const got = r.rows
    .filter((x) => include(x.visitor_id))
    .map((x) =>
      norm({
        siteId: x.site_id,
        visitorId: x.visitor_id,
        start: x.started_at.getTime(),
        end: x.ended_at.getTime(),
        pageviews: x.pageviews,
        events: x.events,
        entryPath: x.entry_path,
        exitPath: x.exit_path,
      }),
    );
  const want = truth.map(norm);
  const gotSet = new Set(got);
  const wantSet = new Set(want);
  const out: string[] = [];
  const missing = want.filter((x) => !gotSet.has(x));
  const extra = got.filter((x) => !wantSet.has(x));
  if (missing.length)
    out.push(
      `sessions: ${missing.length} of ${want.length} missing or different, e.g. ${missing.slice(0, 2).join('; ')}`,
    );
  if (extra.length)
    out.push(`sessions: ${extra.length} stored that are not in the truth, e.g. ${extra.slice(0, 2).join('; ')}`);
  if (got.length !== gotSet.size) out.push(`sessions: ${got.length - gotSet.size} duplicate row(s)`);
  // The sessions counted in the rollups, per site and start minute: open ones included.
  const perMinute = new Map<string, number>();
  for (const x of truthSessions(
    distinct(events).filter((e) => sites.includes(e.siteId)),
    gapMs,
  )) {
    const k = `${x.siteId}|${Math.floor(x.start / MINUTE) * MINUTE}`;
    perMinute.set(k, (perMinute.get(k) ?? 0) + 1);
  }
  const counted = await db.query<{ site_id: string; bucket: Date; n: number }>(
    "SELECT site_id, bucket, sum(sessions)::int AS n FROM rollups WHERE granularity = 'minute' AND dimension = '' AND site_id = ANY($1::uuid[]) GROUP BY 1, 2 HAVING sum(sessions) <> 0",
    [sites],
  );
  const countedMap = new Map(counted.rows.map((x) => [`${x.site_id}|${x.bucket.getTime()}`, x.n]));
  for (const k of new Set([...perMinute.keys(), ...countedMap.keys()])) {
    if ((perMinute.get(k) ?? 0) !== (countedMap.get(k) ?? 0)) {
      const [site, bucket] = k.split('|');
      out.push(
        `sessions counted in the minute rollups ${site} ${new Date(Number(bucket)).toISOString()}: truth ${perMinute.get(k) ?? 0}, rollups ${countedMap.get(k) ?? 0}`,
      );
    }
  }
  return out;
}

/**
 * A test-only audit of committed batches in a test's (or benchmark's) own database: a trigger
 * logs every change of a stored next offset with the connection's application_name (PGAPPNAME of
 * the worker that committed it), the transaction's start (now()), the time of the offset update
 * (its last statement before COMMIT) and the transaction id (to find the events it archived via
 * xmin). Rolled back with the batch, so it lists exactly the committed batches.
 */
export async function installBatchLog(db: pg.Pool): Promise<void> {
  await db.query(`
    CREATE TABLE IF NOT EXISTS test_batch_log (
      id bigserial PRIMARY KEY, app text NOT NULL, job text NOT NULL, partition int NOT NULL, from_offset bigint NOT NULL, to_offset bigint NOT NULL,
      tx_started timestamptz NOT NULL DEFAULT now(), at timestamptz NOT NULL DEFAULT clock_timestamp(), txid bigint NOT NULL DEFAULT (txid_current() % 4294967296));
    CREATE OR REPLACE FUNCTION test_log_batch() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.next_offset <> OLD.next_offset THEN
        INSERT INTO test_batch_log (app, job, partition, from_offset, to_offset) VALUES (current_setting('application_name'), NEW.job, NEW.partition, OLD.next_offset, NEW.next_offset);
      END IF;
      RETURN NEW;
    END $$;
    DROP TRIGGER IF EXISTS test_log_batch ON consumer_progress;
    CREATE TRIGGER test_log_batch AFTER UPDATE ON consumer_progress FOR EACH ROW EXECUTE FUNCTION test_log_batch();
  `);
}

export interface LoggedBatch {
  app: string;
  job: string;
  partition: number;
  from: bigint;
  to: bigint;
  /** Transaction start and the offset update (just before COMMIT), ms since epoch. */
  txStarted?: number;
  at?: number;
}

export async function loggedBatches(db: pg.Pool): Promise<LoggedBatch[]> {
  const r = await db.query<{
    app: string;
    job: string;
    partition: number;
    from_offset: string;
    to_offset: string;
    tx_started: Date;
    at: Date;
  }>('SELECT app, job, partition, from_offset::text, to_offset::text, tx_started, at FROM test_batch_log ORDER BY id');
  return r.rows.map((x) => ({
    app: x.app,
    job: x.job,
    partition: x.partition,
    from: BigInt(x.from_offset),
    to: BigInt(x.to_offset),
    txStarted: x.tx_started.getTime(),
    at: x.at.getTime(),
  }));
}

/** Offset ranges applied more than once or skipped: the committed batches of each job and partition must tile [0, high). */
export function batchTilingDifferences(
  batches: LoggedBatch[],
  highs: { partition: number; high: string }[],
  jobs: readonly string[] = STREAM_JOBS,
): string[] {
  const out: string[] = [];
  for (const job of jobs) {
    for (const h of highs) {
      let next = 0n;
      for (const b of batches.filter((x) => x.job === job && x.partition === h.partition)) {
        if (b.from !== next)
          out.push(`${job}/${h.partition}: batch by ${b.app} applied [${b.from}, ${b.to}) after [.., ${next})`);
        next = b.to;
      }
      if (next !== BigInt(h.high)) out.push(`${job}/${h.partition}: batches end at ${next}, high watermark ${h.high}`);
    }
  }
  return out;
}

export async function createSites(
  db: pg.Pool,
  names: string[],
  hostnames: string[] = [],
): Promise<{ id: string; key: string }[]> {
  const team = (
    await db.query<{ id: string }>(
      "INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'Pipeline team') RETURNING id",
    )
  ).rows[0]!.id;
  const out: { id: string; key: string }[] = [];
  for (const name of names) {
    const key = `k-${randomUUID()}`;
    const r = await db.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames, rate_limit_per_minute) VALUES (gen_random_uuid(), $1, $2, 'shop.test', $3, $4, 100000000) RETURNING id",
      [team, name, key, hostnames],
    );
    out.push({ id: r.rows[0]!.id, key });
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
