import type pg from 'pg';
import type { Env } from '@/lib/env';
import { digestText, weeklyDigest } from '@/lib/notify/digest';
import { sendEmail } from '@/lib/notify/channels';
import { localDayStart } from '../shared/dimensions';
import { DAY, HOUR, MINUTE } from '@/lib/time';

// Weekly email digest per site: once a site's local Monday 08:00 has passed, last week's digest
// goes to its team's owners and admins, once (digests_sent). Needs SMTP (SMTP_URL); without it
// nothing is sent and nothing is recorded, so digests start when SMTP is configured.
// A week is one digest whatever the site's time zone: the same local week starts at most 26 h
// apart in two zones, distinct weeks 7 days apart, so a digest already sent for a week starting
// within SAME_WEEK_MS of this one is this week's (a time-zone change does not resend it). Weeks
// that ended before the site was created get none.

const SEND_AFTER_LOCAL_MS = 8 * HOUR;
const WEEK = 7 * DAY;
const SAME_WEEK_MS = 2 * DAY;
let lastCheck = 0;

/** Start (local midnight, as an instant) of the Monday beginning the week that contains `ts`. */
export function localWeekStart(ts: number, timeZone: string): number {
  let day = localDayStart(ts, timeZone);
  for (let i = 0; i < 7; i++) {
    const weekday = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short' }).format(new Date(day + 12 * HOUR));
    if (weekday === 'Mon') return day;
    day = localDayStart(day - 1, timeZone);
  }
  return day;
}

/** What the digest reads of the settings: whether SMTP is configured at all. */
export type DigestSettings = Pick<Env, 'SMTP_URL'>;

export async function sendWeeklyDigests(
  db: pg.Pool,
  settings: DigestSettings,
  now: number,
  opts: { force?: boolean } = {},
): Promise<number> {
  if (!settings.SMTP_URL) return 0;
  if (!opts.force && now - lastCheck < MINUTE) return 0; // checked at most once a minute
  lastCheck = now;
  const sites = await db.query<{ id: string; timezone: string; created_at: Date }>(
    'SELECT id, timezone, created_at FROM sites',
  );
  let sent = 0;
  for (const site of sites.rows) {
    const thisWeek = localWeekStart(now, site.timezone);
    if (now < thisWeek + SEND_AFTER_LOCAL_MS) continue;
    const lastWeek = localWeekStart(thisWeek - DAY, site.timezone);
    if (lastWeek + WEEK <= site.created_at.getTime()) continue;
    const done = await db.query('SELECT 1 FROM digests_sent WHERE site_id = $1 AND week > $2 AND week < $3', [
      site.id,
      new Date(lastWeek - SAME_WEEK_MS).toISOString(),
      new Date(lastWeek + SAME_WEEK_MS).toISOString(),
    ]);
    if (done.rowCount) continue;
    const to = await db.query<{ email: string }>(
      "SELECT DISTINCT u.email FROM sites s JOIN memberships m ON m.team_id = s.team_id AND m.role IN ('owner', 'admin') JOIN users u ON u.id = m.user_id WHERE s.id = $1 ORDER BY 1",
      [site.id],
    );
    if (to.rows.length === 0) continue;
    const { subject, text } = digestText(await weeklyDigest(db, site.id, lastWeek), site.timezone);
    const result = await sendEmail(
      to.rows.map((r) => r.email),
      subject,
      text,
    );
    if (!result.ok) {
      console.error(`[digest] site ${site.id}: ${result.error}`);
      continue; // retried next check
    }
    await db.query('INSERT INTO digests_sent (site_id, week) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      site.id,
      new Date(lastWeek).toISOString(),
    ]);
    sent++;
  }
  return sent;
}
