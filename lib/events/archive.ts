import type pg from 'pg';
import { DAY } from '@/lib/time';

// The raw events archive is range-partitioned by day. Partitions are created ahead of time by
// the workers; anything outside them lands in events_default (never lost, just less pruned).

export function partitionName(dayStart: number): string {
  return `events_${new Date(dayStart).toISOString().slice(0, 10).replace(/-/g, '_')}`;
}

/** Creates daily partitions from today to `daysAhead` days ahead (idempotent, concurrency-safe). */
export async function ensureDailyPartitions(db: pg.Pool, now: number, daysAhead = 3): Promise<void> {
  const today = Math.floor(now / DAY) * DAY;
  for (let d = 0; d <= daysAhead; d++) {
    const start = today + d * DAY;
    const name = partitionName(start);
    const exists = await db.query('SELECT 1 FROM pg_class WHERE relname = $1', [name]);
    if (exists.rowCount) continue;
    try {
      await db.query(
        `CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF events FOR VALUES FROM ('${new Date(start).toISOString()}') TO ('${new Date(start + DAY).toISOString()}')`,
      );
    } catch (e) {
      // Rows for that day already sit in events_default (e.g. the first day after install): keep them there.
      const code = (e as { code?: string }).code;
      if (code !== '23514' && code !== '42P07' && code !== '23505') throw e;
    }
  }
}
