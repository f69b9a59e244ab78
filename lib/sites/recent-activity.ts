import { pool } from '../db/client';
import { DAY } from '@/lib/time';

// "Is my snippet working?" (issue 14, first five minutes): the last events the pipeline stored
// for a site, and what the collect endpoint dropped on purpose in the last 24 hours, by reason,
// each with a one-line fix. Drops are counted per minute in the ingestion ledger (collect never
// stores a dropped event), so they are shown as counts with the last minute seen.

export const DROP_FIXES = {
  bot: 'The user agent looks like a crawler or a headless browser (e.g. a test runner). Open the page in a normal browser window.',
  hostname:
    'The page’s hostname is not one of this site’s allowed hostnames. Add it in Settings → Allowed hostnames (or serve the page from the site’s domain).',
  rate_limited:
    'More events than the site’s per-minute limit (or one address’s or visitor’s) allow. Raise the rate limit in Settings, or send fewer test events.',
  spam: 'The referrer is on the referrer-spam list. Nothing to fix if it is spam; visits from real links are counted.',
  malformed:
    'The request did not match the collect format. Use the snippet as given (or check a custom integration against lib/collect/payload.ts).',
} as const;
export type DropReason = keyof typeof DROP_FIXES;

/** Shown always: the tracker refuses localhost on the client, so no request ever reaches Eddy. */
export const LOCALHOST_TIP =
  'Testing on localhost, 127.0.0.1 or a file? The tracker sends nothing from there unless the tag has data-allow-localhost.';

export interface RecentActivity {
  events: { name: string; path: string; at: string }[];
  drops: { reason: DropReason; count: number; lastAt: string; fix: string }[];
}

const COLUMN: Record<DropReason, string> = {
  bot: 'dropped_bot',
  hostname: 'dropped_hostname',
  rate_limited: 'dropped_rate_limited',
  spam: 'dropped_spam',
  malformed: 'malformed',
};

export async function recentActivity(siteId: string, now = Date.now()): Promise<RecentActivity> {
  const since = new Date(now - DAY);
  const [events, ledger] = await Promise.all([
    pool().query<{ name: string; path: string | null; ts: Date }>(
      `SELECT name, record->>'path' AS path, ts FROM events WHERE site_id = $1 AND ts >= $2 ORDER BY ts DESC LIMIT 10`,
      [siteId, since],
    ),
    pool().query<Record<string, number | Date | null>>(
      `SELECT ${Object.entries(COLUMN)
        .map(([k, c]) => `sum(${c})::int AS "${k}", max(minute) FILTER (WHERE ${c} > 0) AS "${k}_at"`)
        .join(', ')}
         FROM ingestion_ledger WHERE site_id = $1 AND minute >= $2`,
      [siteId, since],
    ),
  ]);
  const row = ledger.rows[0] ?? {};
  const drops = (Object.keys(COLUMN) as DropReason[])
    .map((reason) => ({
      reason,
      count: Number(row[reason] ?? 0),
      lastAt: row[`${reason}_at`] instanceof Date ? (row[`${reason}_at`] as Date).toISOString() : '',
      fix: DROP_FIXES[reason],
    }))
    .filter((d) => d.count > 0)
    .sort((a, b) => (a.lastAt < b.lastAt ? 1 : -1));
  return { events: events.rows.map((e) => ({ name: e.name, path: e.path ?? '/', at: e.ts.toISOString() })), drops };
}
