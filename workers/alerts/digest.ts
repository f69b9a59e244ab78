import type pg from 'pg';

// Weekly email digest per site: placeholder until lib/notify/digest.ts lands.
export async function sendWeeklyDigests(_db: pg.Pool, _now: number): Promise<void> {}
