import type { Queryable } from '../../db/client';
import { ROTATION_GRACE_MS } from './periods';
import { MINUTE } from '@/lib/time';

// Owner of `rotation_handovers`: the visitor ids seen in the last ROTATION_GRACE_MS of their salt
// period. identify() writes one when a visitor shows up in that window and looks it up in the
// first ROTATION_GRACE_MS after the rotation, so collect never reads the events archive (a sink
// the workers write, with their lag). Outside those two windows nothing is read or written.

// Per process, an id is written once and looked up once: every handover of a period is written
// before its rotation and looked up after it, so neither answer changes once known. Bounded by
// clearing: a cleared entry only costs one more idempotent statement.
const MAX_REMEMBERED = 100_000;
const written = new Set<string>();
const answers = new Map<string, boolean>();
let sweptAt = -Infinity;

/** Records that the visitor was active shortly before the rotation at `keepUntil - ROTATION_GRACE_MS`. */
export async function recordHandover(
  db: Queryable,
  siteId: string,
  visitorId: string,
  keepUntil: number,
  now: number,
): Promise<void> {
  const key = `${siteId}|${visitorId}`;
  if (written.has(key)) return;
  try {
    // Once per window per process, the previous rotation's rows go (the retention job sweeps too).
    if (now - sweptAt >= ROTATION_GRACE_MS) {
      sweptAt = now;
      await forgetExpiredHandovers(db, now);
    }
    await db.query(
      'INSERT INTO rotation_handovers (site_id, visitor_id, keep_until) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [siteId, visitorId, new Date(keepUntil).toISOString()],
    );
    if (written.size >= MAX_REMEMBERED) written.clear();
    written.add(key);
  } catch (e) {
    // A lost handover only splits that visitor's visit at the rotation: never fail collect for
    // it. A site deleted a moment ago (collect caches site keys for 30 s) fails the foreign key.
    if ((e as { code?: unknown }).code !== '23503') failed(e);
  }
}

/** The visitor id of the previous period was active in its last ROTATION_GRACE_MS. */
export async function handedOver(
  db: Queryable,
  siteId: string,
  previousVisitorId: string,
  now: number,
): Promise<boolean> {
  const key = `${siteId}|${previousVisitorId}`;
  const known = answers.get(key);
  if (known !== undefined) return known;
  try {
    const r = await db.query(
      'SELECT 1 FROM rotation_handovers WHERE site_id = $1 AND visitor_id = $2 AND keep_until > $3',
      [siteId, previousVisitorId, new Date(now).toISOString()],
    );
    const seen = (r.rowCount ?? 0) > 0;
    if (answers.size >= MAX_REMEMBERED) answers.clear();
    answers.set(key, seen);
    return seen;
  } catch (e) {
    failed(e);
    return false; // as for a visitor never seen: the new period's id
  }
}

/** Deletes handovers whose grace period is over (collect now and then, and the retention job). */
export async function forgetExpiredHandovers(db: Queryable, now: number): Promise<number> {
  const r = await db.query('DELETE FROM rotation_handovers WHERE keep_until <= $1', [new Date(now).toISOString()]);
  return r.rowCount ?? 0;
}

let loggedAt = -Infinity;
function failed(e: unknown): void {
  // At most one line a minute: with the database away, every request of the window would fail.
  if (Date.now() - loggedAt < MINUTE) return;
  loggedAt = Date.now();
  console.warn(`[collect] rotation handover unavailable: ${(e as Error).message}`);
}
