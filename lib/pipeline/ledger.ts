import { pool } from '../db/client';
import { HOUR } from '@/lib/time';

// The ingestion ledger of one site, per minute: what the collect endpoint received and what
// became of each event. received = accepted + every drop reason + malformed (the collect
// endpoint books each request under exactly one outcome); duplicates, late and dead-lettered are
// what the workers found later among the accepted. receivedApi says how many of the received
// came through the events API (issue 15) — the ledger's source column.

export const LEDGER_COLUMNS = [
  'accepted',
  'droppedBot',
  'droppedSpam',
  'droppedHostname',
  'droppedRateLimited',
  'malformed',
] as const;

export interface LedgerMinute {
  minute: number;
  received: number;
  /** Of `received`, through the events API (POST /api/v1/events) rather than the tracker. */
  receivedApi: number;
  accepted: number;
  droppedBot: number;
  droppedSpam: number;
  droppedHostname: number;
  droppedRateLimited: number;
  malformed: number;
  duplicates: number;
  late: number;
  deadLettered: number;
}

export async function siteLedger(
  siteId: string,
  hours: number,
  now = Date.now(),
): Promise<{ minutes: LedgerMinute[]; totals: Omit<LedgerMinute, 'minute'> }> {
  const r = await pool().query<{ minute: Date } & Record<string, number>>(
    `SELECT minute, received, received_api AS "receivedApi", accepted, dropped_bot AS "droppedBot", dropped_spam AS "droppedSpam", dropped_hostname AS "droppedHostname",
       dropped_rate_limited AS "droppedRateLimited", malformed, duplicates, late, dead_lettered AS "deadLettered"
     FROM ingestion_ledger WHERE site_id = $1 AND minute >= $2 ORDER BY minute`,
    [siteId, new Date(now - hours * HOUR)],
  );
  const minutes = r.rows.map(({ minute, ...rest }) => ({ minute: minute.getTime(), ...rest }) as LedgerMinute);
  const totals = {
    received: 0,
    receivedApi: 0,
    accepted: 0,
    droppedBot: 0,
    droppedSpam: 0,
    droppedHostname: 0,
    droppedRateLimited: 0,
    malformed: 0,
    duplicates: 0,
    late: 0,
    deadLettered: 0,
  };
  for (const m of minutes) for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += m[k];
  return { minutes, totals };
}
