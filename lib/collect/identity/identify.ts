import type pg from 'pg';
import type { SaltRotation } from './periods';
import { saltsAt } from './salts';
import { visitorId } from './visitor-id';

/** For this long after a salt rotates, a visitor active just before keeps their old id. */
export const ROTATION_GRACE_MS = 30 * 60_000;

/**
 * The visitor id for a request. Right after the salt rotates (e.g. at midnight), a visitor who
 * was active under the previous salt keeps that id, so a live session does not split in two.
 */
export async function identify(
  db: pg.Pool,
  input: { siteId: string; rotation: SaltRotation; ip: string; userAgent: string; now: number },
): Promise<string> {
  const salts = await saltsAt(db, input.rotation, input.now);
  const current = visitorId(salts.current, input.siteId, input.ip, input.userAgent);
  if (!salts.previous || input.now - salts.periodStart >= ROTATION_GRACE_MS) return current;
  const previous = visitorId(salts.previous, input.siteId, input.ip, input.userAgent);
  const seen = await db.query('SELECT 1 FROM events WHERE site_id = $1 AND visitor_id = $2 AND ts >= $3 LIMIT 1', [
    input.siteId,
    previous,
    new Date(salts.periodStart - ROTATION_GRACE_MS).toISOString(),
  ]);
  return seen.rowCount ? previous : current;
}
