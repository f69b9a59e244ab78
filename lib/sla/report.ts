import { pool } from '../db/client';
import type { SlaBreachView } from './types';

// What the SLA page shows: the target, current freshness, compliance over 24 h / 7 d / 30 d
// (share of measured minutes that met the target), freshness per minute for the last hour and
// the breach timeline with causes.

export interface SlaReport {
  targetMs: number | null;
  current: { ms: number | null; at: number | null; breached: boolean; cause: string | null };
  compliance: { window: '24h' | '7d' | '30d'; measuredMinutes: number; breachedMinutes: number; ratio: number | null }[];
  lastHour: { minute: number; freshnessMs: number | null; breached: boolean }[];
  breaches: SlaBreachView[];
}

export async function setSlaTarget(siteId: string, targetMs: number): Promise<void> {
  await pool().query(
    `INSERT INTO site_slas (site_id, target_ms) VALUES ($1, $2) ON CONFLICT (site_id) DO UPDATE SET target_ms = EXCLUDED.target_ms, updated_at = now()`,
    [siteId, targetMs],
  );
}

export async function slaReport(siteId: string, now = Date.now()): Promise<SlaReport> {
  const db = pool();
  const [target, comp, hour, breaches, recent] = await Promise.all([
    db.query<{ target_ms: number }>('SELECT target_ms FROM site_slas WHERE site_id = $1', [siteId]),
    db.query<{ w: '24h' | '7d' | '30d'; measured: string; breached: string }>(
      `SELECT w, count(*)::text AS measured, count(*) FILTER (WHERE breached)::text AS breached FROM sla_minutes
       CROSS JOIN (VALUES ('24h', interval '24 hours'), ('7d', interval '7 days'), ('30d', interval '30 days')) AS win(w, span)
       WHERE site_id = $1 AND minute >= $2::timestamptz - span GROUP BY w`,
      [siteId, new Date(now)],
    ),
    db.query<{ minute: Date; freshness_ms: number; breached: boolean }>('SELECT minute, freshness_ms, breached FROM sla_minutes WHERE site_id = $1 AND minute >= $2 ORDER BY minute', [
      siteId,
      new Date(Math.floor(now / 60_000) * 60_000 - 59 * 60_000),
    ]),
    db.query<{ id: string; started_at: Date; ended_at: Date | null; cause: string; worst_ms: number; target_ms: number }>(
      'SELECT id::text, started_at, ended_at, cause, worst_ms, target_ms FROM sla_breaches WHERE site_id = $1 ORDER BY started_at DESC LIMIT 50',
      [siteId],
    ),
    db.query<{ delay: number | null; at: Date | null }>("SELECT max(delay_ms) AS delay, max(at) AS at FROM freshness_samples WHERE site_id = $1 AND at > $2", [siteId, new Date(now - 30_000)]),
  ]);
  const byMinute = new Map(hour.rows.map((r) => [r.minute.getTime(), r]));
  const open = breaches.rows.find((b) => b.ended_at === null);
  const currentMinute = byMinute.get(Math.floor(now / 60_000) * 60_000);
  return {
    targetMs: target.rows[0]?.target_ms ?? null,
    current: {
      ms: open ? Math.max(open.worst_ms, currentMinute?.freshness_ms ?? 0) : (recent.rows[0]?.delay ?? currentMinute?.freshness_ms ?? null),
      at: recent.rows[0]?.at?.getTime() ?? null,
      breached: Boolean(open),
      cause: open?.cause ?? null,
    },
    compliance: (['24h', '7d', '30d'] as const).map((w) => {
      const r = comp.rows.find((x) => x.w === w);
      const measured = Number(r?.measured ?? 0);
      const breached = Number(r?.breached ?? 0);
      return { window: w, measuredMinutes: measured, breachedMinutes: breached, ratio: measured ? (measured - breached) / measured : null };
    }),
    lastHour: Array.from({ length: 60 }, (_, i) => {
      const minute = Math.floor(now / 60_000) * 60_000 - (59 - i) * 60_000;
      const r = byMinute.get(minute);
      return { minute, freshnessMs: r?.freshness_ms ?? null, breached: r?.breached ?? false };
    }),
    breaches: breaches.rows.map((b) => ({ id: b.id, startedAt: b.started_at.getTime(), endedAt: b.ended_at?.getTime() ?? null, cause: b.cause, worstMs: b.worst_ms, targetMs: b.target_ms })),
  };
}
