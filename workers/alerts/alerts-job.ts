import pg from 'pg';
import {
  conditionHolds,
  initialState,
  step,
  alertMessage,
  type AlertState,
  type Observation,
} from '@/lib/alerts/evaluate';
import { observe } from '@/lib/alerts/observe';
import { conditionSchema, channelSchema, type Channel } from '@/lib/alerts/rules';
import { topics, type Bus } from '@/lib/bus';
import { databaseUrl } from '@/lib/db/client';
import { enqueueDeliveries, deliverDue } from '@/lib/notify/deliveries';
import { siteFreshness, quantile, type Freshness } from '@/lib/sla/freshness';
import { LagClock, type PartitionLag } from '@/lib/sla/lag-clock';
import { recordFreshness, recordSiteFreshness } from '@/lib/sla/record';
import { SLA_PERCENTILE } from '@/lib/sla/targets';
import { ROLLUPS_JOB } from '../rollups/rollups-job';
import { scheduledJob, type ScheduledJob } from '../shared/scheduled-job';
import { sendWeeklyDigests, type DigestSettings } from './digest';
import { HOUR, MINUTE } from '@/lib/time';

// The alerts job: every ALERTS_INTERVAL_MS (2 s) it measures each site's freshness, books it
// against the site's SLA, evaluates every alert rule on the rollups the stream jobs keep current,
// and sends what fired. One process leads (a session advisory lock on its own connection; a dead
// leader's lock goes with its connection); the others wait to take over.
// Run it apart from the jobs it watches (`npm run worker -- alerts`) so that stopping those does
// not silence the alert about it; `all` includes it for the single-machine setup.

const LEADER_LOCK = 0x45646479_0007n; // "Eddy", issue 7
const RECENT_SAMPLES_MS = 10_000;
// Healthy consumers apply a batch within ~100 ms; a position still for 3 s while behind is a stopped worker.
const STOPPED_AFTER_MS = 3000;
// How long before its commit a rollups transaction may have written its rows (see sampleCommits).
const COMMIT_GRACE_MS = 2000;
// The collect endpoint books last_accepted_at once a second.
const LEDGER_FLUSH_MS = 1000;

export interface AlertsJobOptions {
  db: pg.Pool;
  bus: Bus;
  intervalMs: number;
  settings: DigestSettings;
  now?: () => number;
  /** The database the leader lock is taken on (default: DATABASE_URL); tests pass their own. */
  databaseUrl?: string;
}

export function alertsJob(o: AlertsJobOptions): ScheduledJob<[], void> {
  const now = o.now ?? Date.now;
  const lagClock = new LagClock();
  let leader: pg.Client | null = null;
  let lastSampled = now() - RECENT_SAMPLES_MS;
  // Newest visible receive time per site seen by this process (also stored in site_freshness).
  const visibleReceivedAt = new Map<string, number>();
  // Events sampled in the last COMMIT_GRACE_MS (event id → applied_at), so the overlap counts once.
  const sampled = new Map<string, number>();

  async function lead(): Promise<boolean> {
    if (leader) return true;
    const c = new pg.Client({ connectionString: o.databaseUrl ?? databaseUrl() });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LEADER_LOCK.toString()]);
      if (r.rows[0]?.ok) {
        c.on('end', () => {
          if (leader === c) leader = null;
        });
        leader = c;
        return true;
      }
    } catch {
      // try again next tick
    }
    await c.end().catch(() => undefined);
    return false;
  }

  async function rollupsLag(t: number): Promise<PartitionLag[]> {
    const [ends, progress] = await Promise.all([
      o.bus.topicOffsets(topics.events),
      o.db.query<{ partition: number; next_offset: string }>(
        'SELECT partition, next_offset::text FROM consumer_progress WHERE job = $1 AND topic = $2',
        [ROLLUPS_JOB, topics.events],
      ),
    ]);
    const next = new Map(progress.rows.map((r) => [r.partition, BigInt(r.next_offset)]));
    return ends.map((e) => lagClock.observe(e.partition, BigInt(e.high), next.get(e.partition) ?? BigInt(e.low), t));
  }

  /**
   * ack → committed delay of the events the rollups job archived since the last pass, per site:
   * applied_at is the rollups transaction's clock_timestamp() when it wrote the row, received_at
   * the collect endpoint's receive time. Also moves each site's newest visible receive time on.
   * A row is written a little before its transaction commits, so each pass looks COMMIT_GRACE_MS
   * further back than the last one and skips the events it already sampled.
   */
  async function sampleCommits(t: number): Promise<void> {
    // A standby that just took over does not re-sample what the previous leader already did.
    const since = Math.max(lastSampled, t - MINUTE);
    const r = await o.db.query<{ site_id: string; event_id: string; received_at: Date; applied_at: Date }>(
      'SELECT site_id, event_id::text, received_at, applied_at FROM events WHERE ts >= $1 AND applied_at > $2 AND applied_at <= $3',
      [new Date(since - 15 * MINUTE), new Date(since - COMMIT_GRACE_MS), new Date(t)],
    );
    lastSampled = t;
    for (const [id, at] of sampled) if (at <= t - COMMIT_GRACE_MS) sampled.delete(id);
    const perSite = new Map<string, { delays: number[]; visible: number }>();
    for (const e of r.rows) {
      if (sampled.has(e.event_id)) continue;
      sampled.set(e.event_id, e.applied_at.getTime());
      const s = perSite.get(e.site_id) ?? { delays: [], visible: 0 };
      s.delays.push(Math.max(0, e.applied_at.getTime() - e.received_at.getTime()));
      s.visible = Math.max(s.visible, e.received_at.getTime());
      perSite.set(e.site_id, s);
    }
    if (perSite.size === 0) return;
    const rows = [...perSite];
    await o.db.query(
      `INSERT INTO freshness_samples (site_id, at, delay_ms, events, source) SELECT s, $1, d, n, 'commit' FROM unnest($2::uuid[], $3::int[], $4::int[]) AS u(s, d, n)`,
      [
        new Date(t),
        rows.map(([site]) => site),
        rows.map(([, x]) => Math.min(2_147_483_647, quantile(x.delays, SLA_PERCENTILE) ?? 0)),
        rows.map(([, x]) => x.delays.length),
      ],
    );
    for (const [site, x] of rows) visibleReceivedAt.set(site, Math.max(visibleReceivedAt.get(site) ?? 0, x.visible));
  }

  async function measureSites(
    t: number,
    lags: PartitionLag[],
  ): Promise<Map<string, Freshness & { targetMs: number | null }>> {
    const sites = await o.db.query<{
      id: string;
      target_ms: number | null;
      recent: number | null;
      late: string;
      visible: Date | null;
      accepted: Date | null;
    }>(
      `SELECT s.id, sla.target_ms,
         (SELECT max(delay_ms) FROM freshness_samples f WHERE f.site_id = s.id AND f.at > $1) AS recent,
         (SELECT count(*) FROM late_events l WHERE l.site_id = s.id AND l.received_at > $2)::text AS late,
         sf.visible_received_at AS visible,
         (SELECT max(last_accepted_at) FROM ingestion_ledger g WHERE g.site_id = s.id AND g.minute >= $3) AS accepted
       FROM sites s LEFT JOIN site_slas sla ON sla.site_id = s.id LEFT JOIN site_freshness sf ON sf.site_id = s.id`,
      [new Date(t - RECENT_SAMPLES_MS), new Date(t - 5 * MINUTE), new Date(t - 24 * HOUR)],
    );
    const out = new Map<string, Freshness & { targetMs: number | null }>();
    for (const s of sites.rows) {
      const visible = Math.max(visibleReceivedAt.get(s.id) ?? 0, s.visible?.getTime() ?? 0) || null;
      const f = siteFreshness({
        now: t,
        recentDelayMs: s.recent,
        visibleReceivedAt: visible,
        lastAcceptedAt: s.accepted?.getTime() ?? null,
        partitions: lags,
        recentLateEvents: Number(s.late),
        stoppedAfterMs: STOPPED_AFTER_MS,
        slackMs: o.intervalMs + LEDGER_FLUSH_MS,
      });
      out.set(s.id, { ...f, targetMs: s.target_ms });
      await recordSiteFreshness(o.db, s.id, { ...f, targetMs: s.target_ms, visibleReceivedAt: visible }, t);
      if (s.target_ms !== null) await recordFreshness(o.db, s.id, s.target_ms, f, t);
    }
    return out;
  }

  async function evaluateRules(
    t: number,
    freshness: Map<string, Freshness & { targetMs: number | null }>,
  ): Promise<void> {
    const rules = await o.db.query<{
      id: string;
      site_id: string;
      site_name: string;
      name: string;
      condition: unknown;
      channels: unknown[];
      for_seconds: number;
      cooldown_seconds: number;
      muted: boolean;
      state: { machine?: AlertState } | null;
    }>(
      'SELECT r.id, r.site_id, s.name AS site_name, r.name, r.condition, r.channels, r.for_seconds, r.cooldown_seconds, r.muted, r.state FROM alert_rules r JOIN sites s ON s.id = r.site_id',
    );
    for (const r of rules.rows) {
      const parsed = conditionSchema.safeParse(r.condition);
      if (!parsed.success) continue;
      const condition = parsed.data;
      let obs: Observation;
      try {
        if (condition.type === 'sla') {
          const f = freshness.get(r.site_id);
          obs = { value: f?.ms ?? null, baseline: f?.targetMs ?? undefined, cause: f?.cause ?? undefined };
        } else obs = await observe(o.db, r.site_id, condition, t);
      } catch (e) {
        console.error(`[alerts] observing rule ${r.id} failed: ${(e as Error).message}`);
        continue;
      }
      const rule = { id: r.id, forSeconds: r.for_seconds, cooldownSeconds: r.cooldown_seconds, muted: r.muted };
      const prev = r.state?.machine ?? initialState;
      const { state, transition } = step(rule, prev, conditionHolds(condition, obs), t);
      await o.db.query('UPDATE alert_rules SET state = $2 WHERE id = $1', [
        r.id,
        JSON.stringify({ machine: state, observation: obs, at: t }),
      ]);
      if (!transition) continue;
      const message = alertMessage({ name: r.name, condition }, obs, transition.kind, r.site_name);
      const ins = await o.db.query<{ id: string }>(
        `INSERT INTO alert_events (rule_id, site_id, kind, dedup_key, suppressed, value, message, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (rule_id, dedup_key) DO NOTHING RETURNING id::text`,
        [
          r.id,
          r.site_id,
          transition.kind,
          transition.key,
          transition.suppressed,
          obs.value,
          message,
          JSON.stringify({ baseline: obs.baseline ?? null, drivers: obs.drivers ?? [], cause: obs.cause ?? null }),
        ],
      );
      const eventId = ins.rows[0]?.id;
      if (eventId && !transition.suppressed) {
        const channels: Channel[] = r.channels.flatMap((c) => {
          const p = channelSchema.safeParse(c);
          return p.success ? [p.data] : [];
        });
        await enqueueDeliveries(o.db, eventId, channels);
      }
      console.log(
        `[alerts] ${transition.kind}${transition.suppressed ? ` (${transition.suppressed})` : ''}: ${message}`,
      );
    }
  }

  async function tick(): Promise<void> {
    const t = now();
    const lags = await rollupsLag(t);
    if (!(await lead())) return;
    await sampleCommits(t);
    const freshness = await measureSites(t, lags);
    await evaluateRules(t, freshness);
    await deliverDue(o.db, o.bus);
    await sendWeeklyDigests(o.db, o.settings, t);
  }

  return scheduledJob<[], void>('alerts', tick, {
    everyMs: o.intervalMs,
    immediately: true,
    // The leader lock goes with its connection: ending it lets a waiting process take over now.
    onStop: async () => {
      await leader?.end().catch(() => undefined);
    },
  });
}
