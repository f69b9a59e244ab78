import { pool } from '../db/client';
import { localDayStart } from '../analytics/time-zone';
import { slaState, type SiteFreshnessNow, type SlaState } from './behind';
import type { SlaBreachView } from './types';
import { HOUR, MINUTE } from '@/lib/time';

// What the SLA page shows: the target, current freshness (the alerts job's latest measurement,
// judged by slaState: a stale one is "not measured", never "within target"), compliance over
// 24 h / 7 d / 30 d and per local day (share of measured minutes that met the target), freshness
// per minute for the last hour and the breach timeline with causes.

export interface SlaReport {
  targetMs: number | null;
  timeZone: string;
  current: SiteFreshnessNow & { state: SlaState; cause: string | null };
  compliance: {
    window: '24h' | '7d' | '30d';
    measuredMinutes: number;
    breachedMinutes: number;
    ratio: number | null;
  }[];
  /** The last 30 local days, oldest first; ratio null for a day without measured minutes. */
  daily: { day: number; measuredMinutes: number; breachedMinutes: number; ratio: number | null }[];
  lastHour: { minute: number; freshnessMs: number | null; breached: boolean }[];
  breaches: SlaBreachView[];
}

export async function setSlaTarget(siteId: string, targetMs: number): Promise<void> {
  await pool().query(
    `INSERT INTO site_slas (site_id, target_ms) VALUES ($1, $2) ON CONFLICT (site_id) DO UPDATE SET target_ms = EXCLUDED.target_ms, updated_at = now()`,
    [siteId, targetMs],
  );
}

const DAILY_DAYS = 30;

export async function slaReport(siteId: string, now = Date.now()): Promise<SlaReport> {
  const db = pool();
  const site = await db.query<{ timezone: string }>('SELECT timezone FROM sites WHERE id = $1', [siteId]);
  const timeZone = site.rows[0]?.timezone ?? 'UTC';
  const days: number[] = [localDayStart(now, timeZone)];
  while (days.length < DAILY_DAYS) days.unshift(localDayStart(days[0]! - 1, timeZone));
  const [target, comp, hour, breaches, current, daily] = await Promise.all([
    db.query<{ target_ms: number }>('SELECT target_ms FROM site_slas WHERE site_id = $1', [siteId]),
    db.query<{ w: '24h' | '7d' | '30d'; measured: string; breached: string }>(
      `SELECT w, count(*)::text AS measured, count(*) FILTER (WHERE breached)::text AS breached FROM sla_minutes
       CROSS JOIN (VALUES ('24h', interval '24 hours'), ('7d', interval '7 days'), ('30d', interval '30 days')) AS win(w, span)
       WHERE site_id = $1 AND minute >= $2::timestamptz - span GROUP BY w`,
      [siteId, new Date(now)],
    ),
    db.query<{ minute: Date; freshness_ms: number; breached: boolean }>(
      'SELECT minute, freshness_ms, breached FROM sla_minutes WHERE site_id = $1 AND minute >= $2 ORDER BY minute',
      [siteId, new Date(Math.floor(now / MINUTE) * MINUTE - 59 * MINUTE)],
    ),
    db.query<{
      id: string;
      started_at: Date;
      ended_at: Date | null;
      cause: string;
      worst_ms: number;
      target_ms: number;
    }>(
      'SELECT id::text, started_at, ended_at, cause, worst_ms, target_ms FROM sla_breaches WHERE site_id = $1 ORDER BY started_at DESC LIMIT 50',
      [siteId],
    ),
    db.query<{
      measured_at: Date;
      freshness_ms: number | null;
      cause: string | null;
      visible_received_at: Date | null;
    }>('SELECT measured_at, freshness_ms, cause, visible_received_at FROM site_freshness WHERE site_id = $1', [siteId]),
    // Days start at the site's local midnight with the offset in force then (23/25-hour DST days).
    db.query<{ i: number; measured: number; breached: number }>(
      `SELECT d.i, count(m.minute)::int AS measured, count(m.minute) FILTER (WHERE m.breached)::int AS breached
       FROM unnest($2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS d(start, stop, i)
       LEFT JOIN sla_minutes m ON m.site_id = $1 AND m.minute >= d.start AND m.minute < d.stop GROUP BY d.i`,
      [siteId, days.map((d) => new Date(d)), days.map((d, i) => new Date(days[i + 1] ?? d + 36 * HOUR))],
    ),
  ]);
  const byMinute = new Map(hour.rows.map((r) => [r.minute.getTime(), r]));
  const c = current.rows[0];
  const targetMs = target.rows[0]?.target_ms ?? null;
  const now_: SiteFreshnessNow = {
    ms: c?.freshness_ms ?? null,
    measuredAt: c?.measured_at.getTime() ?? null,
    targetMs,
    visibleReceivedAt: c?.visible_received_at?.getTime() ?? null,
  };
  const state = slaState(now_, now);
  return {
    targetMs,
    timeZone,
    current: { ...now_, state, cause: state.kind === 'breached' ? (c?.cause ?? null) : null },
    compliance: (['24h', '7d', '30d'] as const).map((w) => {
      const r = comp.rows.find((x) => x.w === w);
      const measured = Number(r?.measured ?? 0);
      const breached = Number(r?.breached ?? 0);
      return {
        window: w,
        measuredMinutes: measured,
        breachedMinutes: breached,
        ratio: measured ? (measured - breached) / measured : null,
      };
    }),
    daily: days.map((day, i) => {
      const r = daily.rows.find((x) => Number(x.i) === i + 1);
      const measured = r?.measured ?? 0;
      const breached = r?.breached ?? 0;
      return {
        day,
        measuredMinutes: measured,
        breachedMinutes: breached,
        ratio: measured ? (measured - breached) / measured : null,
      };
    }),
    lastHour: Array.from({ length: 60 }, (_, i) => {
      const minute = Math.floor(now / MINUTE) * MINUTE - (59 - i) * MINUTE;
      const r = byMinute.get(minute);
      return { minute, freshnessMs: r?.freshness_ms ?? null, breached: r?.breached ?? false };
    }),
    breaches: breaches.rows.map((b) => ({
      id: b.id,
      startedAt: b.started_at.getTime(),
      endedAt: b.ended_at?.getTime() ?? null,
      cause: b.cause,
      worstMs: b.worst_ms,
      targetMs: b.target_ms,
    })),
  };
}
