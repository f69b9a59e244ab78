import type pg from 'pg';
import { KafkaBus } from '@/lib/bus/kafka';
import type { LiveSnapshot } from '@/lib/live/snapshot';
import { STREAM_JOBS, type ChaosCluster } from './cluster';
import type { Attempt, GeneratedEvent, Generator } from './generator';
import type { PoisonRecord } from './nemesis';

// The checker: after healing and draining, every pass criterion of docs/RELIABILITY.md, with the
// generator's log as ground truth. Zero tolerance: any difference is a failure, and is listed.
//
//   lost           acknowledged ids missing from the archive or from a job's event_ids, plus every
//                  per-site, per-minute rollup total that is *below* the ground truth (summed);
//   phantoms       stored ids that were never generated, and stored records that no attempt of the
//                  generator can have produced (site, name, or timestamps that match no attempt);
//   double_counted archive rows beyond one per id, plus every per-site, per-minute rollup total
//                  *above* the ground truth (summed).
// Ground truth per minute: the generator's acknowledged events plus the indeterminate ones that were
// actually stored, each in the minute of the attempt that produced its stored record.

const MINUTE = 60_000;

export interface LiveObservation {
  /** Per client: the snapshot `join` answered after a reconnect, per site. */
  snapshots: { client: string; siteId: string; snapshot: LiveSnapshot }[];
  /** Pushes received for sites the client was not allowed to join, and foreign joins answered ok. */
  isolationViolations: string[];
  pushes: number;
}

export interface Criterion {
  name: string;
  ok: boolean;
  detail: string;
}

export interface CheckResult {
  generated: number;
  acked: number;
  unacked: number;
  /** Stored records produced by attempts the client never saw acknowledged: indeterminate ones, and 503s whose send landed after the deadline. */
  storedFromIndeterminate: number;
  storedFromFailed: number;
  lost: number;
  phantoms: number;
  doubleCounted: number;
  /** The parts: acknowledged ids not stored; rollup cells under / over the truth; archive rows beyond one per id; ledger vs poison. */
  lostIds: number;
  minuteDeficit: number;
  minuteExcess: number;
  duplicateRows: number;
  deadLetteredBooked: number;
  poisonInjected: number;
  criteria: Criterion[];
  passed: boolean;
}

export interface CheckInput {
  cluster: ChaosCluster;
  generator: Generator;
  poison: PoisonRecord[];
  drain: { seconds: number | null; limitSeconds: number };
  live: LiveObservation | null;
}

interface StoredRow {
  event_id: string;
  site_id: string;
  visitor_id: string;
  name: string;
  ts: Date;
  received_at: Date;
}

export async function check(input: CheckInput): Promise<CheckResult> {
  const { cluster, generator } = input;
  const pool = cluster.pool;
  const criteria: Criterion[] = [];
  const add = (name: string, ok: boolean, detail: string) => criteria.push({ name, ok, detail });
  const sample = (xs: string[]) => xs.slice(0, 5).join(', ') + (xs.length > 5 ? `, … (${xs.length})` : '');

  const events = generator.events;
  const acked = [...events.values()].filter((e) => e.acked);
  const unacked = [...events.values()].filter((e) => !e.acked);

  // --- what is stored
  const archive = (
    await pool.query<StoredRow>('SELECT event_id::text, site_id::text, visitor_id, name, ts, received_at FROM events')
  ).rows;
  const byId = new Map<string, StoredRow[]>();
  for (const r of archive) byId.set(r.event_id, [...(byId.get(r.event_id) ?? []), r]);
  const seen = new Map<string, Set<string>>();
  const seenDupes = new Map<string, number>();
  for (const job of STREAM_JOBS) {
    const r = await pool.query<{ event_id: string }>('SELECT event_id::text FROM event_ids WHERE job = $1', [job]);
    const set = new Set(r.rows.map((x) => x.event_id));
    seen.set(job, set);
    seenDupes.set(job, r.rows.length - set.size);
  }

  // 1. nothing lost: every acknowledged id is archived and claimed by every job
  const lostIds = acked
    .filter((e) => !byId.has(e.id) || STREAM_JOBS.some((j) => !seen.get(j)!.has(e.id)))
    .map((e) => e.id);
  const lostDetail = lostIds.map(
    (id) =>
      `${id} [archive:${byId.has(id) ? 'y' : 'n'} ${STREAM_JOBS.map((j) => `${j}:${seen.get(j)!.has(id) ? 'y' : 'n'}`).join(' ')}]`,
  );
  add(
    'nothing lost (acknowledged ids stored)',
    lostIds.length === 0,
    lostIds.length
      ? `missing: ${sample(lostDetail)}`
      : `${acked.length} acknowledged ids all archived and claimed by ${STREAM_JOBS.join(', ')}`,
  );

  // 2. no phantoms: every stored id generated, every stored record produced by a logged attempt
  const phantomIds = [...byId.keys(), ...STREAM_JOBS.flatMap((j) => [...seen.get(j)!])].filter((id) => !events.has(id));
  const unmatched: string[] = [];
  let storedFromIndeterminate = 0;
  let storedFromFailed = 0;
  for (const [id, rows] of byId) {
    const e = events.get(id);
    if (!e) continue;
    for (const r of rows) {
      const a = producingAttempt(e, r);
      if (!a)
        unmatched.push(
          `${id} (site ${r.site_id === e.site.id ? 'ok' : 'WRONG'}, name ${r.name}, ts ${r.ts.toISOString()}, received ${r.received_at.toISOString()})`,
        );
      else if (a.outcome === 'indeterminate') storedFromIndeterminate++;
      else if (a.outcome === 'failed') storedFromFailed++;
    }
  }
  const phantoms = new Set(phantomIds).size + unmatched.length;
  add(
    'no phantoms',
    phantoms === 0,
    phantoms
      ? `never generated: ${sample([...new Set(phantomIds)])}; no matching attempt: ${sample(unmatched)}`
      : `every stored record traces to a logged attempt (${storedFromIndeterminate} from indeterminate attempts, ${storedFromFailed} from attempts answered 503)`,
  );

  // 3. nothing double-counted: one archive row per id, and per-site, per-minute totals equal the truth
  const dupRows =
    [...byId.values()].reduce((n, rows) => n + rows.length - 1, 0) + [...seenDupes.values()].reduce((a, b) => a + b, 0);
  const truth = new Map<string, { pageviews: number; events: number }>();
  const site = new Map<string, string>();
  for (const [id, rows] of byId) {
    const e = events.get(id);
    if (!e) continue;
    const first = rows.reduce((a, b) => (a.ts <= b.ts ? a : b));
    const k = `${e.site.id}|${Math.floor(first.ts.getTime() / MINUTE) * MINUTE}`;
    site.set(k, e.site.id);
    const v = truth.get(k) ?? { pageviews: 0, events: 0 };
    if (e.name === 'pageview') v.pageviews++;
    else v.events++;
    truth.set(k, v);
  }
  const got = await minuteTotals(pool);
  let excess = 0;
  let deficit = 0;
  const diffs: string[] = [];
  for (const k of new Set([...truth.keys(), ...got.keys()])) {
    const want = truth.get(k) ?? { pageviews: 0, events: 0 };
    const have = got.get(k) ?? { pageviews: 0, events: 0 };
    const d = have.pageviews - want.pageviews + (have.events - want.events);
    const over = Math.max(0, have.pageviews - want.pageviews) + Math.max(0, have.events - want.events);
    const under = Math.max(0, want.pageviews - have.pageviews) + Math.max(0, want.events - have.events);
    excess += over;
    deficit += under;
    if (over || under)
      diffs.push(
        `${k.slice(0, 8)}…@${new Date(Number(k.split('|')[1])).toISOString().slice(11, 16)} truth ${want.pageviews}/${want.events} rollups ${have.pageviews}/${have.events} (${d > 0 ? '+' : ''}${d})`,
      );
  }
  // Hour and day rows must agree with the minutes.
  const coarse: string[] = [];
  for (const g of ['hour', 'day'] as const) {
    const r = await pool.query<{ site_id: string; pageviews: number; events: number }>(
      "SELECT site_id::text, COALESCE(sum(pageviews), 0)::int AS pageviews, COALESCE(sum(events), 0)::int AS events FROM rollups WHERE granularity = $1 AND dimension = '' GROUP BY 1",
      [g],
    );
    for (const s of cluster.sites) {
      const want = [...truth]
        .filter(([k]) => k.startsWith(s.id))
        .reduce((a, [, v]) => ({ pageviews: a.pageviews + v.pageviews, events: a.events + v.events }), {
          pageviews: 0,
          events: 0,
        });
      const have = r.rows.find((x) => x.site_id === s.id) ?? { pageviews: 0, events: 0 };
      if (have.pageviews !== want.pageviews || have.events !== want.events)
        coarse.push(
          `${g} ${s.id.slice(0, 8)}… truth ${want.pageviews}/${want.events} rollups ${have.pageviews}/${have.events}`,
        );
    }
  }
  add(
    'nothing double-counted or missing (per site and minute = ground truth)',
    dupRows === 0 && excess === 0 && deficit === 0 && coarse.length === 0,
    dupRows || excess || deficit || coarse.length
      ? `duplicate rows ${dupRows}; minute cells over by ${excess}, under by ${deficit}: ${sample(diffs)}${coarse.length ? `; hour/day: ${sample(coarse)}` : ''}`
      : `${truth.size} site-minutes equal the truth (pageviews/events), hour and day rows agree`,
  );

  // 3b. visits: the sessions job fires every visit early and refines it with retractions, so at
  // any moment the rollups' sessions and bounces per site and start minute must equal the visits
  // the stored events make — open ones included — through crashes, re-sends and rebalances.
  const gaps = new Map(
    (await pool.query<{ id: string; gap: number }>('SELECT id::text, session_gap_minutes AS gap FROM sites')).rows.map(
      (r) => [r.id, r.gap * MINUTE],
    ),
  );
  const byVisitor = new Map<string, { site: string; ts: number; name: string }[]>();
  for (const [id, rows] of byId) {
    if (!events.has(id)) continue;
    const r = rows.reduce((a, b) => (a.ts <= b.ts ? a : b));
    const k = `${r.site_id}|${r.visitor_id}`;
    byVisitor.set(k, [...(byVisitor.get(k) ?? []), { site: r.site_id, ts: r.ts.getTime(), name: r.name }]);
  }
  const visitTruth = new Map<string, { sessions: number; bounces: number }>();
  for (const list of byVisitor.values()) {
    list.sort((a, b) => a.ts - b.ts);
    const gap = gaps.get(list[0]!.site) ?? 30 * MINUTE;
    let start = 0;
    for (let i = 1; i <= list.length; i++) {
      // Touching session windows merge: a new visit only after more than the gap.
      if (i < list.length && list[i]!.ts - list[i - 1]!.ts <= gap) continue;
      const visit = list.slice(start, i);
      const k = `${visit[0]!.site}|${Math.floor(visit[0]!.ts / MINUTE) * MINUTE}`;
      const v = visitTruth.get(k) ?? { sessions: 0, bounces: 0 };
      v.sessions++;
      // The sessions job's bounce (session-stats.ts): at most one pageview and no custom event (no engagement is sent here).
      if (visit.filter((e) => e.name === 'pageview').length <= 1 && visit.every((e) => e.name === 'pageview'))
        v.bounces++;
      visitTruth.set(k, v);
      start = i;
    }
  }
  const visitRows = await pool.query<{ site_id: string; bucket: Date; sessions: number; bounces: number }>(
    "SELECT site_id::text, bucket, sum(sessions)::int AS sessions, sum(bounces)::int AS bounces FROM rollups WHERE granularity = 'minute' AND dimension = '' GROUP BY 1, 2 HAVING sum(sessions) <> 0 OR sum(bounces) <> 0",
  );
  const visitGot = new Map(
    visitRows.rows.map((r) => [`${r.site_id}|${r.bucket.getTime()}`, { sessions: r.sessions, bounces: r.bounces }]),
  );
  const visitDiffs: string[] = [];
  for (const k of new Set([...visitTruth.keys(), ...visitGot.keys()])) {
    const want = visitTruth.get(k) ?? { sessions: 0, bounces: 0 };
    const have = visitGot.get(k) ?? { sessions: 0, bounces: 0 };
    if (want.sessions !== have.sessions || want.bounces !== have.bounces) {
      visitDiffs.push(
        `${k.slice(0, 8)}…@${new Date(Number(k.split('|')[1])).toISOString().slice(11, 16)} truth ${want.sessions}/${want.bounces} rollups ${have.sessions}/${have.bounces}`,
      );
    }
  }
  const visitTotal = [...visitTruth.values()].reduce((n, v) => n + v.sessions, 0);
  add(
    'visits and bounces per site and start minute = the visits the stored events make (open ones included)',
    visitDiffs.length === 0,
    visitDiffs.length
      ? `visits/bounces differ: ${sample(visitDiffs)}`
      : `${visitTotal} visits in ${visitTruth.size} site-minutes equal the truth`,
  );

  // 4. offsets: stored next offsets = high watermarks; committed ≤ them
  const bus = new KafkaBus([cluster.opts.broker.brokers], 'chaos-checker');
  try {
    const highs = await bus.topicOffsets(cluster.eventsTopic);
    const progress = await pool.query<{ job: string; partition: number; next_offset: string }>(
      'SELECT job, partition, next_offset::text FROM consumer_progress WHERE topic = $1',
      [cluster.eventsTopic],
    );
    const problems: string[] = [];
    for (const job of STREAM_JOBS) {
      const committed = await bus.committedOffsets(`${cluster.namespace}job-${job}`, cluster.eventsTopic);
      for (const h of highs) {
        const stored = progress.rows.find((p) => p.job === job && p.partition === h.partition)?.next_offset ?? '0';
        if (stored !== h.high) problems.push(`${job}/${h.partition}: stored ${stored} ≠ high ${h.high}`);
        const c = committed.find((x) => x.partition === h.partition)?.offset;
        if (c !== null && c !== undefined && BigInt(c) > BigInt(h.high))
          problems.push(`${job}/${h.partition}: committed ${c} > high ${h.high}`);
      }
    }
    add(
      'offsets consistent',
      problems.length === 0,
      problems.length
        ? problems.join('; ')
        : `highs ${highs.map((h) => h.high).join('/')}; stored = highs, committed ≤ highs`,
    );
  } finally {
    await bus.close();
  }

  // 5. lag 0 within the limit after the last fault
  const d = input.drain;
  add(
    'lag 0 within 120 s of the last fault',
    d.seconds !== null && d.seconds <= d.limitSeconds,
    d.seconds === null ? `not drained` : `lag 0 ${d.seconds.toFixed(1)} s after the last fault`,
  );

  // 6. live client totals = database totals after reconnect; tenants isolated
  if (input.live) {
    const mismatches: string[] = [];
    for (const { client, siteId, snapshot } of input.live.snapshots) {
      const since = snapshot.minutes[0]!.minute;
      const r = await pool.query<{ bucket: Date; pageviews: number }>(
        "SELECT bucket, sum(pageviews)::int AS pageviews FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = '' AND bucket >= $2 GROUP BY 1",
        [siteId, new Date(since).toISOString()],
      );
      const db = new Map(r.rows.map((x) => [x.bucket.getTime(), x.pageviews]));
      const truthPv = [...truth]
        .filter(([k]) => k.startsWith(siteId) && Number(k.split('|')[1]) >= since)
        .reduce((n, [, v]) => n + v.pageviews, 0);
      const liveTotal = snapshot.minutes.reduce((n, m) => n + m.pageviews, 0);
      const bad = snapshot.minutes.filter((m) => (db.get(m.minute) ?? 0) !== m.pageviews);
      if (bad.length || liveTotal !== truthPv)
        mismatches.push(
          `${client} ${siteId.slice(0, 8)}…: live ${liveTotal}, truth ${truthPv}, minutes differing from the database: ${bad.length}`,
        );
    }
    const v = input.live.isolationViolations;
    add(
      'live totals = database after reconnect; tenants isolated',
      mismatches.length === 0 && v.length === 0 && input.live.snapshots.length > 0,
      mismatches.length || v.length
        ? [...mismatches, ...v].join('; ')
        : `${input.live.snapshots.length} site snapshots equal the database and the truth; ${input.live.pushes} pushes received, none foreign`,
    );
  }

  // 7. poison records: each dead-lettered once per job, booked once in the ledger, the partition kept flowing
  const ledger = await pool.query<{ n: number }>(
    'SELECT COALESCE(sum(dead_lettered), 0)::int AS n FROM ingestion_ledger',
  );
  const dl = await pool.query<{ job: string; partition: number; offset: string }>(
    'SELECT job, partition, "offset"::text AS offset FROM dead_letters',
  );
  const dlProblems: string[] = [];
  for (const job of STREAM_JOBS) {
    const rows = dl.rows.filter((r) => r.job === job);
    for (const p of input.poison)
      if (!rows.some((r) => r.partition === p.partition && r.offset === p.offset))
        dlProblems.push(`${job} has no dead letter for ${p.partition}@${p.offset}`);
    for (const r of rows)
      if (!input.poison.some((p) => p.partition === r.partition && p.offset === r.offset))
        dlProblems.push(`${job} dead-lettered a record we did not poison: ${r.partition}@${r.offset}`);
  }
  const booked = ledger.rows[0]!.n;
  add(
    'dead letters = poison injected (ledger books each once)',
    booked === input.poison.length && dlProblems.length === 0,
    `${input.poison.length} poison record(s) injected; ledger dead_lettered = ${booked}${dlProblems.length ? `; ${sample(dlProblems)}` : ''}`,
  );

  // Every event acknowledged once the system healed (an event the healed system never takes is an outage).
  add(
    'every generated event acknowledged after healing',
    unacked.length === 0,
    unacked.length
      ? `${unacked.length} never acknowledged: ${sample(unacked.map((e) => e.id))}`
      : `${events.size} of ${events.size}`,
  );

  return {
    generated: events.size,
    acked: acked.length,
    unacked: unacked.length,
    storedFromIndeterminate,
    storedFromFailed,
    lost: lostIds.length + deficit,
    phantoms,
    doubleCounted: dupRows + excess,
    lostIds: lostIds.length,
    minuteDeficit: deficit,
    minuteExcess: excess,
    duplicateRows: dupRows,
    deadLetteredBooked: booked,
    poisonInjected: input.poison.length,
    criteria,
    passed: criteria.every((c) => c.ok),
  };
}

/** The attempt whose payload produced this stored record: receivedAt − ts = c − t identifies it. */
function producingAttempt(e: GeneratedEvent, r: StoredRow): Attempt | undefined {
  if (r.site_id !== e.site.id || r.name !== e.storedName) return undefined;
  const received = r.received_at.getTime();
  const c = e.t + (received - r.ts.getTime());
  return e.attempts.find((a) => a.c === c && received >= a.c - 2 && received <= a.end + 2);
}

export async function minuteTotals(pool: pg.Pool): Promise<Map<string, { pageviews: number; events: number }>> {
  const r = await pool.query<{ site_id: string; bucket: Date; pageviews: number; events: number }>(
    "SELECT site_id::text, bucket, sum(pageviews)::int AS pageviews, sum(events)::int AS events FROM rollups WHERE granularity = 'minute' AND dimension = '' GROUP BY 1, 2",
  );
  return new Map(
    r.rows
      .filter((x) => x.pageviews || x.events)
      .map((x) => [`${x.site_id}|${x.bucket.getTime()}`, { pageviews: x.pageviews, events: x.events }]),
  );
}
