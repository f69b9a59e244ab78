import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { periodStart, previousPeriodStart, type SaltRotation } from './periods';

// Salts live in PostgreSQL so every collect process of an installation derives the same
// visitor id. Each period's salt is created on first use (racing processes agree through
// ON CONFLICT); salts older than the previous period are deleted.

// A period's salt never changes once created, and a missing *past* salt never appears later
// (only the current period's is created), so both answers are cached: no query per event.
const cache = new Map<string, Buffer | null>();

async function saltFor(db: pg.Pool, rotation: SaltRotation, start: number, create: boolean): Promise<Buffer | null> {
  const key = `${rotation}:${start}`;
  const hit = cache.get(key);
  if (hit !== undefined && (hit !== null || !create)) return hit;
  const at = new Date(start).toISOString();
  if (create) {
    await db.query('INSERT INTO salts (rotation, period_start, salt) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
      rotation,
      at,
      randomBytes(32),
    ]);
  }
  const r = await db.query<{ salt: Buffer }>('SELECT salt FROM salts WHERE rotation = $1 AND period_start = $2', [
    rotation,
    at,
  ]);
  const salt = r.rows[0]?.salt ?? null;
  if (cache.size > 32) cache.clear();
  cache.set(key, salt);
  if (salt) {
    if (create) {
      // Forget salts two periods back: past visitor ids become unlinkable for good.
      await db.query('DELETE FROM salts WHERE rotation = $1 AND period_start < $2', [
        rotation,
        new Date(previousPeriodStart(rotation, start + 1)).toISOString(),
      ]);
    }
  }
  return salt;
}

export interface Salts {
  current: Buffer;
  /** The previous period's salt, while it still exists. */
  previous: Buffer | null;
  periodStart: number;
}

export async function saltsAt(db: pg.Pool, rotation: SaltRotation, now: number): Promise<Salts> {
  const start = periodStart(rotation, now);
  const current = (await saltFor(db, rotation, start, true))!;
  const previous = await saltFor(db, rotation, previousPeriodStart(rotation, now), false);
  return { current, previous, periodStart: start };
}

/** For tests: drop the in-process cache so the database is read again. */
export function clearSaltCache(): void {
  cache.clear();
}
