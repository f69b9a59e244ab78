import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setEnv } from '@/lib/env';
import { HyperLogLog } from '@/lib/stream';
import { localWeekStart, sendWeeklyDigests } from '@/workers/alerts/digest';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp';

// The weekly digest: after the site's local Monday 08:00, last week's numbers go by email to the
// team's owners and admins, once.

let d: TestDatabase;
let pool: pg.Pool;
let smtp: SmtpSink;
let siteId: string;
let teamId: string;
const TZ = 'Europe/Berlin';

beforeAll(async () => {
  smtp = await startSmtpSink();
  setEnv({ SMTP_URL: smtp.url, SMTP_FROM: 'Eddy <eddy@example.test>' });
  d = await freshDatabase('digest');
  pool = new pg.Pool({ connectionString: d.url });
  pool.on('error', () => undefined); // dropping the test database terminates connections that are still closing
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'T') RETURNING id")
  ).rows[0]!.id;
  for (const [email, role] of [
    ['owner@example.test', 'owner'],
    ['admin@example.test', 'admin'],
    ['viewer@example.test', 'viewer'],
  ] as const) {
    const u = (
      await pool.query<{ id: string }>(
        "INSERT INTO users (id, email, password_hash) VALUES (gen_random_uuid(), $1, 'x') RETURNING id",
        [email],
      )
    ).rows[0]!.id;
    await pool.query('INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, $3)', [team, u, role]);
  }
  teamId = team;
  // Dated before the weeks under test: no digest goes out for weeks before a site existed.
  siteId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, timezone, created_at) VALUES (gen_random_uuid(), $1, 'Shop', 'shop.test', $2, $3, '2026-10-01T00:00:00Z') RETURNING id",
      [team, `k-${randomUUID()}`, TZ],
    )
  ).rows[0]!.id;
});
afterAll(async () => {
  await pool?.end();
  await smtp.close();
  await d?.drop();
});

describe('weekly digest', () => {
  it('mails last week’s numbers to owners and admins once, after Monday 08:00 in the site’s timezone', async () => {
    const monday = Date.UTC(2026, 10, 23, 8, 30); // Mon 23 Nov 2026, 09:30 in Berlin
    const thisWeek = localWeekStart(monday, TZ);
    expect(new Date(thisWeek).toISOString()).toBe('2026-11-22T23:00:00.000Z');
    const lastWeek = thisWeek - 7 * 86_400_000;
    const sketch = (ids: string[]) => JSON.stringify(ids.reduce((h, id) => h.add(id), new HyperLogLog(14)).toJSON());
    const day = (n: number) => new Date(lastWeek + n * 86_400_000).toISOString();
    // Two days of last week (visitors overlap: 3 distinct, not 4), and the week before.
    await pool.query(
      `INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, pageviews, sessions, bounces, visitors) VALUES
       ($1, 'day', $2, '', '', 0, 60, 10, 4, $4), ($1, 'day', $3, '', '', 0, 40, 10, 1, $5),
       ($1, 'day', $2, 'page', '/pricing', 0, 70, 0, 0, NULL), ($1, 'day', $3, 'page', '/', 0, 30, 0, 0, NULL),
       ($1, 'day', $6, '', '', 0, 80, 8, 2, NULL)`,
      [siteId, day(1), day(3), sketch(['a', 'b']), sketch(['b', 'c']), day(-3)],
    );
    await pool.query(
      "INSERT INTO peak_windows (site_id, day, content_group, window_size_minutes, window_start, window_end, pageviews, visitors) VALUES ($1, $2, '', 60, $3, $4, 33, 3)",
      [
        siteId,
        day(1).slice(0, 10),
        new Date(lastWeek + 86_400_000 + 14 * 3_600_000).toISOString(),
        new Date(lastWeek + 86_400_000 + 15 * 3_600_000).toISOString(),
      ],
    );

    // Issue 14: a goal with two conversions by one visitor last week, one the week before (not counted).
    const goal = (
      await pool.query<{ id: string }>(
        "INSERT INTO goals (id, site_id, name, kind, event_name) VALUES (gen_random_uuid(), $1, 'Signup', 'event', 'Signup') RETURNING id",
        [siteId],
      )
    ).rows[0]!.id;
    await pool.query(
      `INSERT INTO goal_conversions (goal_id, event_id, site_id, visitor_id, ts) VALUES ($1, gen_random_uuid(), $2, 'a', $3), ($1, gen_random_uuid(), $2, 'a', $4), ($1, gen_random_uuid(), $2, 'z', $5)`,
      [goal, siteId, day(1), day(3), day(-3)],
    );

    expect(await sendWeeklyDigests(pool, { SMTP_URL: smtp.url }, thisWeek + 7 * 3_600_000, { force: true })).toBe(0); // 07:00 local: not yet
    expect(await sendWeeklyDigests(pool, { SMTP_URL: smtp.url }, monday, { force: true })).toBe(1);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.to).toEqual(['admin@example.test', 'owner@example.test']);
    const body = smtp.mails[0]!.body;
    expect(body).toContain('Eddy weekly: 3 visitors on Shop');
    expect(body).toContain('Pageviews: 100 (+25 % on the week before)');
    expect(body).toContain('Visits: 20, bounce rate 25 %');
    expect(body).toContain('/pricing — 70');
    expect(body).toContain('33 pageviews');
    expect(body).toContain('Signup — 1 converted (33.3 %), 2 conversions');
    expect(await sendWeeklyDigests(pool, { SMTP_URL: smtp.url }, monday + 3_600_000, { force: true })).toBe(0); // once per week
    expect(smtp.mails).toHaveLength(1);
  });

  it('changing the site’s time zone does not resend the week’s digest; the next week still comes', async () => {
    const sentBefore = smtp.mails.length;
    const monday = Date.UTC(2026, 10, 23, 8, 30); // already sent for this site by the test above
    expect(await sendWeeklyDigests(pool, { SMTP_URL: smtp.url }, monday, { force: true })).toBe(0);
    // Los Angeles: its Monday 08:00 is 16:00Z, a different instant for the same week's start.
    await pool.query("UPDATE sites SET timezone = 'America/Los_Angeles' WHERE id = $1", [siteId]);
    const laMonday = Date.UTC(2026, 10, 23, 17, 0);
    expect(localWeekStart(laMonday, 'America/Los_Angeles')).not.toBe(localWeekStart(monday, TZ));
    expect(await sendWeeklyDigests(pool, { SMTP_URL: smtp.url }, laMonday, { force: true })).toBe(0);
    // And east of Berlin, where the week began earlier.
    await pool.query("UPDATE sites SET timezone = 'Pacific/Auckland' WHERE id = $1", [siteId]);
    expect(await sendWeeklyDigests(pool, { SMTP_URL: smtp.url }, laMonday + 3_600_000, { force: true })).toBe(0);
    expect(smtp.mails).toHaveLength(sentBefore);
    // A week later the new zone's week is a new digest.
    await pool.query("UPDATE sites SET timezone = 'America/Los_Angeles' WHERE id = $1", [siteId]);
    expect(await sendWeeklyDigests(pool, { SMTP_URL: smtp.url }, laMonday + 7 * 86_400_000, { force: true })).toBe(1);
    expect(smtp.mails).toHaveLength(sentBefore + 1);
  });

  it('sends no digest for a week that ended before the site existed', async () => {
    const monday = Date.UTC(2026, 10, 23, 8, 30);
    const created = Date.UTC(2026, 10, 23, 7, 0); // Monday morning: last week ended before it
    const newSite = (
      await pool.query<{ id: string }>(
        "INSERT INTO sites (id, team_id, name, domain, public_key, timezone, created_at) VALUES (gen_random_uuid(), $1, 'New shop', 'new.test', $2, 'UTC', $3) RETURNING id",
        [teamId, `k-${randomUUID()}`, new Date(created)],
      )
    ).rows[0]!.id;
    const sentBefore = smtp.mails.length;
    expect(await sendWeeklyDigests(pool, { SMTP_URL: smtp.url }, monday, { force: true })).toBe(0);
    expect(smtp.mails).toHaveLength(sentBefore);
    const weeks = await pool.query('SELECT week FROM digests_sent WHERE site_id = $1', [newSite]);
    expect(weeks.rowCount).toBe(0);
    // Its first week (which it existed in) gets one the Monday after.
    expect(
      await sendWeeklyDigests(pool, { SMTP_URL: smtp.url }, monday + 7 * 86_400_000, { force: true }),
    ).toBeGreaterThanOrEqual(1);
    expect((await pool.query('SELECT week FROM digests_sent WHERE site_id = $1', [newSite])).rowCount).toBe(1);
  });
});
