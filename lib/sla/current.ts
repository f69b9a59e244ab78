import { pool } from '../db/client';
import type { SiteFreshnessNow } from './behind';

// Reads the alerts job's latest freshness measurement per site (site_freshness, written by
// record.ts) for the live snapshot and the relay's periodic freshness push. The target is the one
// set now, not the one at measurement time, so a changed target applies at once.

export async function siteFreshnessMany(siteIds: string[]): Promise<Map<string, SiteFreshnessNow>> {
  if (siteIds.length === 0) return new Map();
  const r = await pool().query<{
    site_id: string;
    measured_at: Date | null;
    freshness_ms: number | null;
    visible_received_at: Date | null;
    target_ms: number | null;
  }>(
    `SELECT s.id::text AS site_id, f.measured_at, f.freshness_ms, f.visible_received_at, sla.target_ms
     FROM unnest($1::uuid[]) AS s(id) LEFT JOIN site_freshness f ON f.site_id = s.id LEFT JOIN site_slas sla ON sla.site_id = s.id`,
    [siteIds],
  );
  return new Map(
    r.rows.map((x) => [
      x.site_id,
      {
        ms: x.freshness_ms,
        measuredAt: x.measured_at?.getTime() ?? null,
        targetMs: x.target_ms,
        visibleReceivedAt: x.visible_received_at?.getTime() ?? null,
      },
    ]),
  );
}

export async function siteFreshnessNow(siteId: string): Promise<SiteFreshnessNow> {
  return (
    (await siteFreshnessMany([siteId])).get(siteId) ?? {
      ms: null,
      measuredAt: null,
      targetMs: null,
      visibleReceivedAt: null,
    }
  );
}
