import type pg from 'pg';
import { handedOver, recordHandover } from './handover';
import { nextPeriodStart, ROTATION_GRACE_MS, type SaltRotation } from './periods';
import { saltsAt } from './salts';
import { visitorId } from './visitor-id';

/**
 * The visitor id for a request. Right after the salt rotates (e.g. at midnight), a visitor who
 * was active in the last ROTATION_GRACE_MS under the previous salt keeps that id, so a live
 * session does not split in two. What that needs is recorded here, at collect time
 * (handover.ts), only in those last minutes of a period: the rest of the time an event costs
 * no statement at all.
 */
export async function identify(
  db: pg.Pool,
  input: { siteId: string; rotation: SaltRotation; ip: string; userAgent: string; now: number },
): Promise<string> {
  const salts = await saltsAt(db, input.rotation, input.now);
  const current = visitorId(salts.current, input.siteId, input.ip, input.userAgent);
  const rotation = nextPeriodStart(input.rotation, input.now);
  if (rotation - input.now <= ROTATION_GRACE_MS)
    await recordHandover(db, input.siteId, current, rotation + ROTATION_GRACE_MS, input.now);
  if (!salts.previous || input.now - salts.periodStart >= ROTATION_GRACE_MS) return current;
  const previous = visitorId(salts.previous, input.siteId, input.ip, input.userAgent);
  return (await handedOver(db, input.siteId, previous, input.now)) ? previous : current;
}
