import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, topics, type BusMessage } from '@/lib/bus';
import { KafkaBus } from '@/lib/bus/kafka';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { alertMessage, conditionHolds } from '@/lib/alerts/evaluate';
import { observe } from '@/lib/alerts/observe';
import { conditionSchema } from '@/lib/alerts/rules';
import { eventKey, type EventRecord } from '@/lib/events/record';
import { createFunnel } from '@/lib/funnels/manage';
import { goalInputSchema } from '@/lib/goals/definition';
import { createGoal } from '@/lib/goals/manage';
import { funnelInputSchema } from '@/lib/funnels/definition';
import { insightsCsv } from '@/lib/insights/export';
import { insightsQuerySchema, siteInsights, type InsightRow, type InsightsResult } from '@/lib/insights/report';
import { applyRecords } from '@/workers/consumer/steps';
import { funnelsJob } from '@/workers/funnels/funnels-job';
import { replay } from '@/workers/ops/replay';
import { DefinitionsTable } from '@/workers/insights/definitions';
import { insightsJob } from '@/workers/insights/insights-job';
import { rollupsJob } from '@/workers/rollups/rollups-job';
import { runJob, type RunningJob } from '@/workers/runtime';
import { sessionsJob } from '@/workers/sessions/sessions-job';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import { rng } from '../helpers/traffic';
import { eventually } from '../helpers/wait';
import { jobSettings } from './support/job-settings';

// Issue 14 end to end on real Kafka and PostgreSQL: seeded traffic with custom events and
// properties, outbound clicks, downloads, 404s and engagement goes through the rollups, sessions,
// insights and funnels jobs; the dashboard's domain functions must give the numbers the
// generator's own ground truth gives (not only "something is there"). Event times are built
// around a fixed instant, so the test passes at any hour.

const DAY_START = Date.UTC(2026, 10, 20, 0, 0);
const BASE = DAY_START + 12 * 3_600_000;
const range = { range: 'custom', from: '2026-11-20', to: '2026-11-20', compare: 'none' } as const;

let db: TestDatabase;
let pool: pg.Pool;
let bus: KafkaBus;
let dims: SiteDimensionTable;
let defs: DefinitionsTable;
const jobs: RunningJob[] = [];
let siteId: string;
const site = () => ({ id: siteId, timezone: 'UTC', domain: 'shop.test' });
const sent: EventRecord[] = [];
let proGoal = '';
let pricingGoal = '';
let windowFunnel = '';
let visitFunnel = '';

const CHANNELS = ['search', 'direct', 'social'] as const;
const COUNTRIES = ['DE', 'FR', 'US'] as const;

function event(visitor: number, name: string, ts: number, extra: Partial<EventRecord> = {}): EventRecord {
  return {
    v: 1,
    eventId: randomUUID(),
    siteId,
    visitorId: `visitor-${visitor}`,
    name,
    url: `https://shop.test${extra.path ?? '/'}`,
    hostname: 'shop.test',
    path: '/',
    channel: 'internal',
    referrerHost: 'shop.test',
    device: visitor % 4 === 0 ? 'mobile' : 'desktop',
    browser: 'Firefox',
    os: 'Linux',
    country: COUNTRIES[visitor % 3],
    ts,
    receivedAt: ts,
    ...extra,
  };
}

/** 60 visitors, one visit each; a seeded mix of everything the tracker collects. */
function traffic(): EventRecord[] {
  const r = rng(14);
  const out: EventRecord[] = [];
  for (let v = 0; v < 60; v++) {
    let t = BASE + v * 20_000;
    const channel = CHANNELS[v % 3]!;
    const step = () => (t += 5_000 + Math.floor(r() * 20_000));
    out.push(
      event(v, 'pageview', t, {
        path: '/',
        channel,
        referrerHost: channel === 'direct' ? undefined : channel === 'search' ? 'www.google.com' : 'x.com',
      }),
    );
    out.push(
      event(v, 'engagement', step(), {
        path: '/',
        engagement: { visibleMs: 10_000 + v * 100, scrollDepth: 50 + (v % 5) * 10 },
      }),
    );
    if (v % 2 === 0) {
      out.push(event(v, 'pageview', step(), { path: '/pricing' }));
      if (v % 4 === 0)
        out.push(
          event(v, 'Signup', step(), {
            path: '/pricing',
            props: { plan: v % 8 === 0 ? 'pro' : 'free', seats: (v % 3) + 1, trial: v % 16 === 0 },
          }),
        );
    }
    if (v % 5 === 0)
      out.push(
        event(v, 'outbound', step(), {
          props: { url: v % 10 === 0 ? 'https://github.com/eddy' : 'https://docs.example/x' },
        }),
      );
    if (v % 6 === 0)
      out.push(event(v, 'download', step(), { props: { url: 'https://shop.test/files/price-list.pdf' } }));
    if (v % 7 === 0)
      out.push(
        event(v, '404', step(), {
          path: '/old-page',
          props: { path: '/old-page' },
          referrerHost: v % 14 === 0 ? 'www.google.com' : 'shop.test',
        }),
      );
  }
  return out;
}

const produce = (events: EventRecord[]) =>
  bus.producer().send(
    topics.events,
    events.map((e) => ({ key: eventKey(e), value: JSON.stringify(e) })),
  );
const claimed = async (job: string) =>
  (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM event_ids WHERE job = $1', [job])).rows[0]!.n;
const query = (q: Record<string, string | number>) =>
  siteInsights(site(), insightsQuerySchema.parse({ ...range, ...q }), BASE + 3_600_000);
const rowsOf = (r: InsightsResult): InsightRow[] =>
  r.kind !== 'goals' && r.kind !== 'goal_breakdown' && r.kind !== 'funnels' ? r.rows : [];

const settings = jobSettings({
  EVENTS_PARTITIONS: 3,
  OUT_OF_ORDERNESS_MS: 5000,
  ALLOWED_LATENESS_MS: 120_000,
  IDLE_TIMEOUT_MS: 1500,
});
beforeAll(async () => {
  setEnv({
    BUS_NAMESPACE: `ins${randomBytes(3).toString('hex')}.`,
    EVENTS_PARTITIONS: String(settings.EVENTS_PARTITIONS),
  });
  db = await freshDatabase('insights');
  setEnv({ DATABASE_URL: db.url });
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  pool.on('error', () => undefined);
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
  ).rows[0]!.id;
  siteId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key) VALUES (gen_random_uuid(), $1, 'shop', 'shop.test', $2) RETURNING id",
      [team, `k-${randomUUID()}`],
    )
  ).rows[0]!.id;
  // Goals and the funnel exist before the traffic: the jobs match them as events stream in.
  proGoal = (
    await createGoal(
      siteId,
      goalInputSchema.parse({
        name: 'Pro signup',
        kind: 'event',
        eventName: 'Signup',
        propKey: 'plan',
        propValue: 'pro',
      }),
      BASE,
    )
  ).id;
  pricingGoal = (
    await createGoal(
      siteId,
      goalInputSchema.parse({ name: 'Saw pricing', kind: 'page', pathPattern: '/pricing' }),
      BASE,
    )
  ).id;
  // The same steps twice: within 60 minutes of the first step, and within one visit (the site's
  // session gap: the default 30 minutes). In the seeded traffic every visitor has one visit of a
  // few minutes, so both count the same; the 'funnel scopes' visitors below tell them apart.
  const steps = [
    { kind: 'page', pathPattern: '/' },
    { kind: 'page', pathPattern: '/pri*' },
    { kind: 'event', eventName: 'Signup' },
  ];
  windowFunnel = (
    await createFunnel(
      siteId,
      funnelInputSchema.parse({ name: 'Pricing to signup', scope: 'window', windowMinutes: 60, steps }),
    )
  ).id;
  visitFunnel = (await createFunnel(siteId, funnelInputSchema.parse({ name: 'Pricing to signup in one visit', steps })))
    .id;
  bus = new KafkaBus(kafkaBrokers());
  await ensureTopics(bus);
  dims = new SiteDimensionTable(pool);
  await dims.refresh();
  defs = new DefinitionsTable(pool);
  await defs.refresh();
  for (const job of [
    rollupsJob({ bus, db: pool, dims, settings }),
    sessionsJob({ bus, db: pool, dims, settings }),
    insightsJob({ bus, dims, defs, settings }),
    funnelsJob({ bus, defs, dims, settings }),
  ]) {
    jobs.push(await runJob(job, bus, pool, { sessionTimeoutMs: 6000 }));
  }
  const events = traffic();
  sent.push(...events);
  await produce(events);
  // A producer retry re-sends a few: each must still count once.
  await produce(events.filter((_, i) => i % 9 === 0));
  for (const job of ['rollups', 'sessions', 'insights', 'funnels'])
    await eventually(async () => (await claimed(job)) === events.length, 90_000, `${job} applied every event`);
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(jobs.map((j) => j.stop()));
  await bus?.close();
  await pool?.end();
  await closeDb();
  await db?.drop();
});

const visitorsWhere = (f: (e: EventRecord) => boolean) => new Set(sent.filter(f).map((e) => e.visitorId)).size;
const countWhere = (f: (e: EventRecord) => boolean) => sent.filter(f).length;

describe('custom events and the automatic events on the dashboard', () => {
  it('the Custom events panel counts each event name, its unique visitors and its conversion rate (visitors ÷ all visitors)', async () => {
    const r = await query({ kind: 'event' });
    expect(r.kind).toBe('event');
    const rows = rowsOf(r);
    // Only custom events: outbound, download, 404, engagement and pageview have their own panels.
    expect(rows.map((x) => x.value)).toEqual(['Signup']);
    const signups = countWhere((e) => e.name === 'Signup');
    const signupVisitors = visitorsWhere((e) => e.name === 'Signup');
    expect(signups).toBe(15);
    expect(rows[0]!.count).toBe(signups);
    expect(rows[0]!.visitors).toBe(signupVisitors);
    expect('totalVisitors' in r && r.totalVisitors).toBe(60);
    expect(rows[0]!.conversionRate).toBeCloseTo(signupVisitors / 60, 5);
  });

  it('drills into an event’s properties: top values per key, each with its count, and a search narrows them', async () => {
    const rows = rowsOf(await query({ kind: 'prop', event: 'Signup', limit: 50 }));
    const got = Object.fromEntries(rows.map((x) => [`${x.key}=${x.value}`, x.count]));
    const truth: Record<string, number> = {};
    for (const e of sent.filter((x) => x.name === 'Signup'))
      for (const [k, v] of Object.entries(e.props ?? {}))
        truth[`${k}=${String(v)}`] = (truth[`${k}=${String(v)}`] ?? 0) + 1;
    expect(got).toEqual(truth);
    const plan = rowsOf(await query({ kind: 'prop', event: 'Signup', key: 'plan' }));
    expect(truth['plan=pro']).toBe(8);
    expect(plan.map((x) => [x.value, x.count])).toEqual([
      ['pro', 8],
      ['free', 7],
    ]);
    expect(
      rowsOf(await query({ kind: 'prop', event: 'Signup', search: 'PRO' })).map((x) => `${x.key}=${x.value}`),
    ).toEqual(['plan=pro']);
  });

  it('outbound links by URL, downloads by file, 404s by path with the referrers that led there', async () => {
    const outbound = rowsOf(await query({ kind: 'outbound' }));
    expect(outbound.map((x) => [x.value, x.count])).toEqual([
      ['https://docs.example/x', countWhere((e) => e.name === 'outbound' && e.props?.url === 'https://docs.example/x')],
      [
        'https://github.com/eddy',
        countWhere((e) => e.name === 'outbound' && e.props?.url === 'https://github.com/eddy'),
      ],
    ]);
    expect(rowsOf(await query({ kind: 'download' })).map((x) => [x.value, x.count, x.visitors])).toEqual([
      ['https://shop.test/files/price-list.pdf', 10, 10],
    ]);
    expect(rowsOf(await query({ kind: '404' })).map((x) => [x.value, x.count])).toEqual([['/old-page', 9]]);
    const refs = rowsOf(await query({ kind: '404_referrer' }));
    expect(refs.map((x) => [x.value, x.key, x.count])).toEqual([
      ['/old-page', 'www.google.com', countWhere((e) => e.name === '404' && e.referrerHost === 'www.google.com')],
      ['/old-page', 'shop.test', countWhere((e) => e.name === '404' && e.referrerHost === 'shop.test')],
    ]);
  });

  it('engaged time per visitor and average scroll depth per page', async () => {
    const [row] = rowsOf(await query({ kind: 'engagement' }));
    const eng = sent.filter((e) => e.name === 'engagement');
    expect(row!.value).toBe('/');
    expect(row!.visitors).toBe(60);
    expect(row!.avgVisibleMs).toBeCloseTo(eng.reduce((n, e) => n + e.engagement!.visibleMs, 0) / 60, 3);
    expect(row!.avgScroll).toBeCloseTo(eng.reduce((n, e) => n + e.engagement!.scrollDepth, 0) / eng.length, 3);
  });

  it('exports a panel as CSV with the same numbers', async () => {
    const csv = insightsCsv(await query({ kind: 'event', limit: 1000 }));
    expect(csv).toBe(`Event,Events,Visitors,Conversion rate\r\nSignup,15,15,${(15 / 60).toFixed(4)}\r\n`);
  });
});

describe('goals', () => {
  it('counts conversions, unique converters and conversion rate = converting visitors ÷ visitors', async () => {
    const r = await query({ kind: 'goals' });
    if (r.kind !== 'goals') throw new Error('expected goals');
    const byName = Object.fromEntries(r.goals.map((g) => [g.name, g]));
    const pro = sent.filter((e) => e.name === 'Signup' && e.props?.plan === 'pro');
    expect(byName['Pro signup']).toMatchObject({
      conversions: pro.length,
      converters: new Set(pro.map((e) => e.visitorId)).size,
    });
    expect(byName['Pro signup']!.conversionRate).toBeCloseTo(new Set(pro.map((e) => e.visitorId)).size / 60, 5);
    const pricing = sent.filter((e) => e.name === 'pageview' && e.path === '/pricing');
    expect(byName['Saw pricing']).toMatchObject({ conversions: pricing.length, converters: 30, conversionRate: 0.5 });
  });

  it('breaks conversion rate down by the visit’s source, country and device', async () => {
    const byChannel = await query({ kind: 'goal_breakdown', goal: pricingGoal, by: 'channel' });
    if (byChannel.kind !== 'goal_breakdown') throw new Error('expected a goal breakdown');
    // Visitor v has channel CHANNELS[v % 3] and sees pricing when v is even.
    const truth = CHANNELS.map((c, i) => {
      const vs = Array.from({ length: 60 }, (_, v) => v).filter((v) => v % 3 === i);
      return { value: c, visitors: vs.length, converters: vs.filter((v) => v % 2 === 0).length };
    });
    expect(Object.fromEntries(byChannel.rows.map((x) => [x.value, [x.visitors, x.converters]]))).toEqual(
      Object.fromEntries(truth.map((t) => [t.value, [t.visitors, t.converters]])),
    );
    const byDevice = await query({ kind: 'goal_breakdown', goal: proGoal, by: 'device' });
    if (byDevice.kind !== 'goal_breakdown') throw new Error('expected a goal breakdown');
    // Pro signups are visitors v % 8 === 0: all mobile (v % 4 === 0).
    expect(byDevice.rows.map((x) => [x.value, x.visitors, x.converters])).toEqual([
      ['mobile', 15, 8],
      ['desktop', 45, 0],
    ]);
  });

  it('a goal spike alert sees the window’s conversions against the trailing baseline, and names the goal', async () => {
    const condition = conditionSchema.parse({
      type: 'goal',
      goalId: pricingGoal,
      direction: 'spike',
      windowMinutes: 60,
      factor: 2,
      minConversions: 5,
    });
    if (condition.type !== 'goal') throw new Error('expected a goal condition');
    const o = await observe(pool, siteId, condition, BASE + 30 * 60_000);
    expect(o).toMatchObject({ value: 30, baseline: 0, label: 'Saw pricing' });
    expect(conditionHolds(condition, o)).toBe(true);
    expect(alertMessage({ name: 'Pricing spike', condition }, o, 'firing', 'shop')).toContain(
      '30 conversions of goal "Saw pricing" in the last 60 min',
    );
    // Twelve hours later the window is empty and the trailing windows hold them: a drop, not a spike.
    const later = await observe(pool, siteId, { ...condition, direction: 'drop' }, BASE + 12 * 3_600_000);
    expect(later).toMatchObject({ value: 0, baseline: 2.5 });
  });

  it('a goal defined after the traffic is counted from the archive (backfill), through the same matcher', async () => {
    const late = await createGoal(
      siteId,
      goalInputSchema.parse({ name: 'Any signup', kind: 'event', eventName: 'Signup' }),
      BASE + 3_600_000,
    );
    const r = await query({ kind: 'goals' });
    if (r.kind !== 'goals') throw new Error('expected goals');
    expect(r.goals.find((g) => g.id === late.id)).toMatchObject({ conversions: 15, converters: 15 });
  });
});

describe('funnels', () => {
  it('shows each step’s visitors, drop-off, conversion and the median time from the first step', async () => {
    const r = await query({ kind: 'funnels' });
    if (r.kind !== 'funnels') throw new Error('expected funnels');
    expect(r.funnels.map((f) => [f.id, f.scope])).toEqual([
      [windowFunnel, 'window'],
      [visitFunnel, 'visit'],
    ]);
    // Every visitor lands on /, even ones go to /pricing, v % 4 === 0 sign up.
    const signedUp = sent.filter((e) => e.name === 'Signup');
    const timeToSignup = signedUp
      .map((e) => e.ts - sent.find((x) => x.visitorId === e.visitorId && x.name === 'pageview' && x.path === '/')!.ts)
      .sort((a, b) => a - b);
    const median = (timeToSignup[7]! + timeToSignup[7]!) / 2;
    for (const f of r.funnels) {
      expect(f.steps.map((s) => [s.visitors, s.dropOff])).toEqual([
        [60, 0],
        [30, 30],
        [15, 15],
      ]);
      expect(f.steps[2]!.conversion).toBeCloseTo(0.25, 5);
      expect(f.steps[2]!.medianMsFromStart).toBe(Math.round(median));
    }
    // Attempts are written once per (funnel, visitor, start): re-sent events did not add any.
    expect(
      (
        await pool.query('SELECT funnel_id, count(*)::int AS n FROM funnel_attempts GROUP BY funnel_id ORDER BY n')
      ).rows.map((x) => x.n),
    ).toEqual([60, 60]);
  });
});

describe('row filters', () => {
  it('select the visitors they match: country DE is visitors v % 3 = 0, and every panel counts only them', async () => {
    // Visitor v is in COUNTRIES[v % 3]; DE = v % 3 = 0 (20 visitors), of whom v % 12 = 0 signed up (5) and v % 6 = 0 saw pricing (10).
    const events = await query({ kind: 'event', country: 'DE' });
    expect('totalVisitors' in events && events.totalVisitors).toBe(20);
    expect(rowsOf(events).map((x) => [x.value, x.count, x.visitors, x.conversionRate])).toEqual([
      ['Signup', 5, 5, 0.25],
    ]);
    const props = rowsOf(await query({ kind: 'prop', event: 'Signup', key: 'plan', country: 'DE' }));
    expect(props.map((x) => [x.key, x.value, x.count])).toEqual([
      ['plan', 'pro', 3],
      ['plan', 'free', 2],
    ]);
    const goals = await query({ kind: 'goals', country: 'DE' });
    if (goals.kind !== 'goals') throw new Error('expected goals');
    expect(goals.goals.find((g) => g.name === 'Saw pricing')).toMatchObject({ converters: 10, conversionRate: 0.5 });
    const funnels = await query({ kind: 'funnels', country: 'DE' });
    if (funnels.kind !== 'funnels') throw new Error('expected funnels');
    expect(funnels.funnels[0]!.steps.map((x) => x.visitors)).toEqual([20, 10, 5]);
    const byChannel = await query({ kind: 'goal_breakdown', goal: pricingGoal, by: 'channel', country: 'DE' });
    if (byChannel.kind !== 'goal_breakdown') throw new Error('expected a goal breakdown');
    // DE visitors are all v % 3 = 0: channel search.
    expect(byChannel.rows.map((x) => [x.value, x.visitors, x.converters])).toEqual([['search', 20, 10]]);
    // Two filters intersect: DE visitors who viewed /pricing, on mobile (v % 4 = 0 and v % 6 = 0 → v % 12 = 0).
    const both = await query({ kind: 'engagement', country: 'DE', page: '/pricing', device: 'mobile' });
    expect('totalVisitors' in both && both.totalVisitors).toBe(5);
    expect(rowsOf(both).map((x) => [x.value, x.visitors])).toEqual([['/', 5]]);
    // Entry page (from the visits): everyone entered on /.
    expect(rowsOf(await query({ kind: 'download', entry_page: '/' })).map((x) => x.count)).toEqual([10]);
  });
});

describe('funnels job restart', () => {
  it('a funnels worker stopped mid-attempt resumes it from its checkpoint: the attempt completes once, exactly', async () => {
    const t = BASE + 2 * 3_600_000;
    const first = [
      event(100, 'pageview', t, { path: '/', channel: 'direct' }),
      event(100, 'pageview', t + 10_000, { path: '/pricing' }),
    ];
    const before = sent.length;
    sent.push(...first);
    await produce(first);
    for (const job of ['rollups', 'sessions', 'insights', 'funnels'])
      await eventually(async () => (await claimed(job)) === before + 2, 60_000, `${job} applied the first two steps`);
    const row = () =>
      pool
        .query<{ steps_reached: number; closed: boolean; step_ms: number[] }>(
          "SELECT steps_reached, closed, step_ms FROM funnel_attempts WHERE visitor_id = 'visitor-100' AND funnel_id = $1",
          [visitFunnel],
        )
        .then((x) => x.rows);
    expect(await row()).toEqual([{ steps_reached: 2, closed: false, step_ms: [0, 10_000] }]);
    // Stop the funnels worker; the third step arrives while it is down.
    await jobs[3]!.stop();
    const signup = event(100, 'Signup', t + 25_000, { path: '/pricing', props: { plan: 'free' } });
    sent.push(signup);
    await produce([signup]);
    for (const job of ['rollups', 'sessions', 'insights'])
      await eventually(async () => (await claimed(job)) === before + 3, 60_000, `${job} applied the signup`);
    jobs[3] = await runJob(funnelsJob({ bus, defs, dims, settings }), bus, pool, { sessionTimeoutMs: 6000 });
    await eventually(
      async () => (await claimed('funnels')) === before + 3,
      60_000,
      'the restarted funnels job applied the signup',
    );
    expect(await row()).toEqual([{ steps_reached: 3, closed: true, step_ms: [0, 10_000, 25_000] }]);
  }, 120_000);
});

describe('funnel scopes', () => {
  it('one visit versus a time limit: a pause longer than the session gap ends a visit attempt, and a long active visit outlives the time limit', async () => {
    const t = BASE + 4 * 3_600_000;
    const MIN = 60_000;
    const later = [
      // visitor-200 signs up 39 min after seeing /pricing: a new visit (gap 30 min), still within 60 min of the first step.
      event(200, 'pageview', t, { path: '/', channel: 'direct' }),
      event(200, 'pageview', t + MIN, { path: '/pricing' }),
      event(200, 'Signup', t + 40 * MIN, { path: '/pricing', props: { plan: 'free' } }),
      // visitor-201 stays 90 min in one visit (a pageview every 20 min), reaching /pricing at 80 min and signing up at 90.
      event(201, 'pageview', t, { path: '/', channel: 'direct' }),
      ...[20, 40, 60].map((m) => event(201, 'pageview', t + m * MIN, { path: '/blog' })),
      event(201, 'pageview', t + 80 * MIN, { path: '/pricing' }),
      event(201, 'Signup', t + 90 * MIN, { path: '/pricing', props: { plan: 'free' } }),
    ];
    const before = sent.length;
    sent.push(...later);
    await produce(later);
    for (const job of ['rollups', 'sessions', 'insights', 'funnels'])
      await eventually(
        async () => (await claimed(job)) === before + later.length,
        60_000,
        `${job} applied the late visitors`,
      );
    const attempts = await pool.query<{
      funnel_id: string;
      visitor_id: string;
      steps_reached: number;
      step_ms: number[];
      closed: boolean;
    }>(
      "SELECT funnel_id, visitor_id, steps_reached, step_ms, closed FROM funnel_attempts WHERE visitor_id IN ('visitor-200', 'visitor-201') ORDER BY visitor_id, funnel_id = $1 DESC",
      [windowFunnel],
    );
    // Every attempt is closed: completed, or its deadline passed by the visitor's own later events.
    expect(
      attempts.rows.map((a) => [a.visitor_id, a.funnel_id === windowFunnel ? 'window' : 'visit', a.step_ms, a.closed]),
    ).toEqual([
      ['visitor-200', 'window', [0, MIN, 40 * MIN], true],
      ['visitor-200', 'visit', [0, MIN], true],
      ['visitor-201', 'window', [0], true],
      ['visitor-201', 'visit', [0, 80 * MIN, 90 * MIN], true],
    ]);
    // The sessions job drew the same visits: two for visitor-200, one of 90 min for visitor-201.
    const visits = await pool.query<{ visitor_id: string; duration_ms: number }>(
      "SELECT visitor_id, duration_ms FROM sessions WHERE visitor_id IN ('visitor-200', 'visitor-201') ORDER BY visitor_id, started_at",
    );
    expect(visits.rows.map((v) => [v.visitor_id, v.duration_ms])).toEqual([
      ['visitor-200', MIN],
      ['visitor-200', 0],
      ['visitor-201', 90 * MIN],
    ]);
    // On the dashboard: the 60 seeded visitors and visitor-100 completed both; 200 and 201 count differently.
    const r = await query({ kind: 'funnels' });
    if (r.kind !== 'funnels') throw new Error('expected funnels');
    expect(Object.fromEntries(r.funnels.map((f) => [f.scope, f.steps.map((x) => x.visitors)]))).toEqual({
      window: [63, 32, 17],
      visit: [63, 33, 17],
    });
  }, 120_000);
});

describe('replay', () => {
  it('re-running the jobs over the archive reproduces the funnel attempts, the event rollups and the goal conversions (Kappa backfill)', async () => {
    const r = await replay({
      databaseUrl: db.url,
      from: new Date(DAY_START),
      to: new Date(DAY_START + 86_400_000),
      settings,
      schema: 'replay_insights',
    });
    expect(r.events).toBe(sent.length);
    const attempts = (schema: string) =>
      pool
        .query(
          `SELECT funnel_id, visitor_id, started_at, steps_reached, step_ms, closed FROM ${schema}.funnel_attempts ORDER BY funnel_id, visitor_id, started_at`,
        )
        .then((x) => x.rows);
    const days = (schema: string) =>
      pool
        .query(
          `SELECT kind, value, sum(count)::int AS n, sum(sum_visible_ms)::int AS vis FROM ${schema}.event_rollups WHERE granularity = 'day' GROUP BY kind, value ORDER BY kind, value`,
        )
        .then((x) => x.rows);
    const conversions = (schema: string, goals: string[]) =>
      pool
        .query(
          `SELECT goal_id, event_id FROM ${schema}.goal_conversions WHERE goal_id = ANY($1) ORDER BY goal_id, event_id`,
          [goals],
        )
        .then((x) => x.rows);
    const live = await attempts('public');
    // 61 visitors × 2 funnels, and one attempt per funnel for each of visitor-200 and visitor-201.
    expect(live).toHaveLength(126);
    // The live job's open attempts closed when their time limit passed in event time; the replay flushes at the end.
    expect(await attempts('replay_insights')).toEqual(live.map((a) => ({ ...a, closed: true })));
    expect(await days('replay_insights')).toEqual(await days('public'));
    expect(await conversions('replay_insights', [proGoal, pricingGoal])).toEqual(
      await conversions('public', [proGoal, pricingGoal]),
    );
  }, 120_000);
});

// Last in the file: it claims an event id of its own, which the waits above would count.
describe('funnels job while the definitions refresh', () => {
  it('an event its dedup step let through unclaimed (no funnel then) never reaches a funnel that appears before apply', async () => {
    // Definitions that gain the site's funnels right after the step judged the event.
    class Flipping extends DefinitionsTable {
      calls = 0;
      override funnels(site: string) {
        return this.calls++ === 0 ? [] : super.funnels(site);
      }
    }
    const flipping = new Flipping(pool);
    await flipping.refresh();
    const attempts = async (visitor: string) =>
      (
        await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM funnel_attempts WHERE visitor_id = $1', [
          visitor,
        ])
      ).rows[0]!.n;
    const through = async (job: ReturnType<typeof funnelsJob>, record: EventRecord) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await applyRecords(job, c, 99, [{ message: {} as BusMessage, record }]);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    };
    const t = BASE + 6 * 3_600_000;
    await through(funnelsJob({ bus, defs: flipping, dims, settings }), event(300, 'pageview', t, { path: '/' }));
    expect(await attempts('visitor-300')).toBe(0);
    // The same first step through definitions that hold still starts the site's attempts: the check can fail.
    await through(funnelsJob({ bus, defs, dims, settings }), event(301, 'pageview', t, { path: '/' }));
    expect(await attempts('visitor-301')).toBeGreaterThan(0);
  });
});
