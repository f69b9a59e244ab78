import type { Freshness } from './freshness';
import type { Queryable } from '@/lib/db/client';
import { DAY, MINUTE } from '@/lib/time';

// Stores one measurement of a site's freshness against its target: the minute's worst value
// (compliance = share of measured minutes that met the target) and the breach timeline (a breach
// opens on the first measurement over the target and closes on the first one back under it).

export async function recordFreshness(
  q: Queryable,
  siteId: string,
  targetMs: number,
  f: Freshness,
  now: number,
): Promise<{ breached: boolean; openBreach: boolean }> {
  const breached = f.ms !== null && f.ms > targetMs;
  if (f.ms !== null) {
    await q.query(
      `INSERT INTO sla_minutes (site_id, minute, freshness_ms, target_ms, breached, cause) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (site_id, minute) DO UPDATE SET freshness_ms = GREATEST(sla_minutes.freshness_ms, EXCLUDED.freshness_ms), target_ms = EXCLUDED.target_ms,
         breached = sla_minutes.breached OR EXCLUDED.breached, cause = COALESCE(sla_minutes.cause, EXCLUDED.cause)`,
      [
        siteId,
        new Date(Math.floor(now / MINUTE) * MINUTE),
        Math.min(2_147_483_647, Math.round(f.ms)),
        targetMs,
        breached,
        breached ? f.cause : null,
      ],
    );
  }
  if (breached) {
    // A breach that turns out to be a stopped worker is named after it (it outranks lag).
    const upd = await q.query(
      `UPDATE sla_breaches SET worst_ms = GREATEST(worst_ms, $2), cause = CASE WHEN $3 = 'stopped worker' THEN $3 ELSE cause END WHERE site_id = $1 AND ended_at IS NULL`,
      [siteId, Math.round(f.ms!), f.cause],
    );
    if (upd.rowCount === 0) {
      await q.query(
        `INSERT INTO sla_breaches (site_id, started_at, cause, worst_ms, target_ms) VALUES ($1, $2, $3, $4, $5)`,
        [siteId, new Date(now - Math.min(f.ms!, DAY) + targetMs), f.cause ?? 'lag', Math.round(f.ms!), targetMs],
      );
    }
    return { breached, openBreach: true };
  }
  await q.query(`UPDATE sla_breaches SET ended_at = $2 WHERE site_id = $1 AND ended_at IS NULL`, [
    siteId,
    new Date(now),
  ]);
  return { breached, openBreach: false };
}

/** The site's latest measurement: what the SLA page and the dashboard tiles read as "now". */
export async function recordSiteFreshness(
  q: Queryable,
  siteId: string,
  f: Freshness & { targetMs: number | null; visibleReceivedAt: number | null },
  now: number,
): Promise<void> {
  await q.query(
    `INSERT INTO site_freshness (site_id, measured_at, freshness_ms, cause, target_ms, visible_received_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (site_id) DO UPDATE SET measured_at = EXCLUDED.measured_at, freshness_ms = EXCLUDED.freshness_ms, cause = EXCLUDED.cause, target_ms = EXCLUDED.target_ms,
       visible_received_at = GREATEST(site_freshness.visible_received_at, EXCLUDED.visible_received_at)`,
    [
      siteId,
      new Date(now),
      f.ms === null ? null : Math.min(2_147_483_647, Math.round(f.ms)),
      f.cause,
      f.targetMs,
      f.visibleReceivedAt === null ? null : new Date(f.visibleReceivedAt),
    ],
  );
}
