import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteForMember } from '@/lib/auth/access';
import type { CurrentUser } from '@/lib/auth/current-user';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import type { EventRecord } from '@/lib/events/record';
import { exportBody, exportDownload, exportRange, listExports, requestExport } from '@/lib/exports/background';
import { RAW_COLUMNS } from '@/lib/exports/formats';
import { EXPORT_LINK_TTL_MS } from '@/lib/exports/link';
import { textStream } from '@/lib/exports/stream';
import { exportsJob } from '@/workers/exports/exports-job';
import { retentionJob } from '@/workers/retention/retention-job';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp';

// Exports (issue 16 §3) around a fixed instant: raw events as CSV and NDJSON for whole local days
// of the site's time zone, daily rollups as CSV, and a background export that ends in an in-app
// notification, an email and a signed link — tampered, expired, or someone else's link gets 404,
// and only an owner of the site may download.

const NOW = Date.parse('2026-03-30T12:00:00.000Z');
let d: TestDatabase;
let pool: pg.Pool;
let smtp: SmtpSink;
let siteId: string;
let owner: CurrentUser;
let viewer: CurrentUser;

const ev = (ts: number, path: string, extra: Partial<EventRecord> = {}): EventRecord => ({
  v: 1,
  eventId: randomUUID(),
  siteId,
  visitorId: 'v1',
  name: 'pageview',
  url: `https://x.test${path}`,
  hostname: 'x.test',
  path,
  channel: 'direct',
  device: 'desktop',
  browser: 'Firefox',
  os: 'Linux',
  ts,
  ...extra,
});

async function insert(events: EventRecord[]): Promise<void> {
  await pool.query(
    `INSERT INTO events (event_id, site_id, visitor_id, name, url, ts, record)
     SELECT u.id, u.site, 'v1', u.name, 'https://x.test/', u.ts, u.rec FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::jsonb[]) AS u(id, site, name, ts, rec)`,
    [
      events.map((e) => e.eventId),
      events.map((e) => e.siteId),
      events.map((e) => e.name),
      events.map((e) => new Date(e.ts)),
      events.map((e) => JSON.stringify(e)),
    ],
  );
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let s = '';
  for await (const c of chunks) s += c;
  return s;
}

async function user(email: string, role: 'owner' | 'viewer', teamId: string): Promise<CurrentUser> {
  const id = (
    await pool.query<{ id: string }>('INSERT INTO users (id, email) VALUES (gen_random_uuid(), $1) RETURNING id', [
      email,
    ])
  ).rows[0]!.id;
  await pool.query('INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, $3)', [teamId, id, role]);
  return { id, email, name: null, sessionVersion: 0, hasPassword: true, isOperator: false };
}

beforeAll(async () => {
  d = await freshDatabase('exports');
  smtp = await startSmtpSink();
  setEnv({
    DATABASE_URL: d.url,
    AUTH_SECRET: 'e'.repeat(40),
    SMTP_URL: smtp.url,
    SMTP_FROM: 'eddy@x.test',
    PUBLIC_URL: 'https://eddy.test',
  });
  pool = new pg.Pool({ connectionString: d.url });
  pool.on('error', () => undefined);
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
  ).rows[0]!.id;
  siteId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames, timezone) VALUES (gen_random_uuid(), $1, 'Shop', 'x.test', $2, '{}', 'Europe/Berlin') RETURNING id",
      [team, `k-${randomUUID()}`],
    )
  ).rows[0]!.id;
  owner = await user('owner@x.test', 'owner', team);
  viewer = await user('viewer@x.test', 'viewer', team);
  // Berlin's 2026-03-29 starts at 2026-03-28T23:00Z (CET) and ends at 2026-03-29T22:00Z (CEST): 23 hours.
  await insert([
    ev(Date.parse('2026-03-28T22:59:59.999Z'), '/before'), // 03-28 local
    ev(Date.parse('2026-03-28T23:00:00.000Z'), '/first'),
    ev(Date.parse('2026-03-29T10:00:00.000Z'), '=HYPERLINK("http://evil.test")', {
      props: { plan: 'pro, "yearly"' },
      utm: { source: 'news' },
    }),
    ev(Date.parse('2026-03-29T21:59:59.999Z'), '/last', { name: 'signup' }),
    ev(Date.parse('2026-03-29T22:00:00.000Z'), '/after'), // 03-30 local
  ]);
  await pool.query(
    `INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, pageviews, events, sessions, bounces, duration_ms)
     VALUES ($1, 'day', '2026-03-28T23:00:00Z', '', '', 0, 3, 1, 2, 1, 90000), ($1, 'day', '2026-03-28T23:00:00Z', '', '', 1, 1, 0, 1, 1, 0), ($1, 'day', '2026-03-28T23:00:00Z', 'page', '/x', 0, 9, 9, 9, 9, 9)`,
    [siteId],
  );
});

afterAll(async () => {
  await closeDb();
  await pool?.end();
  await smtp?.close();
  await d?.drop();
});

describe('exports', () => {
  it('raw events of whole local days as CSV: header, one row per event, quoted cells, formulas defused', async () => {
    const csv = await text(
      exportBody(pool, siteId, 'events', 'csv', exportRange('Europe/Berlin', '2026-03-29', '2026-03-29')),
    );
    const lines = csv.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe(RAW_COLUMNS.join(','));
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => l.split(',')[1])).toEqual([
      'timestamp',
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T10:00:00.000Z',
      '2026-03-29T21:59:59.999Z',
    ]);
    expect(lines[2]).toContain(`"'=HYPERLINK(""http://evil.test"")"`);
    expect(lines[2]).toContain('"{""plan"":""pro, \\""yearly\\""""}"');
    expect(lines[3]).toContain(',signup,');
  });

  it('raw events as NDJSON: one JSON object per line with the same columns', async () => {
    const nd = await text(
      exportBody(pool, siteId, 'events', 'ndjson', exportRange('Europe/Berlin', '2026-03-29', '2026-03-30')),
    );
    const rows = nd
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.path)).toEqual(['/first', '=HYPERLINK("http://evil.test")', '/last', '/after']);
    expect(Object.keys(rows[0]!)).toEqual([...RAW_COLUMNS]);
    expect(rows[1]!.props).toEqual({ plan: 'pro, "yearly"' });
    expect(rows[1]!.utm_source).toBe('news');
  });

  it('daily rollups as CSV: totals summed over source partitions, breakdown rows left out', async () => {
    const csv = await text(
      exportBody(pool, siteId, 'rollups', 'csv', exportRange('Europe/Berlin', '2026-03-28', '2026-03-30')),
    );
    expect(csv.split('\r\n').filter(Boolean)).toEqual([
      'date,visitors,pageviews,events,visits,bounces,visit_duration_s,imported',
      '2026-03-28,0,4,1,3,2,90,no',
    ]);
  });

  it('a background export notifies in the app and by email with a signed link that only its requester, still an owner, can use until it expires', async () => {
    const site = await siteForMember(owner.id, siteId, 'owner');
    const requested = await requestExport(
      pool,
      site,
      owner,
      { kind: 'events', format: 'csv', from: '2026-03-29', to: '2026-03-29' },
      NOW,
    );
    expect(requested.status).toBe('pending');
    expect(await exportsJob({ db: pool, bus: null, clock: () => NOW }).runOnce()).toBe(1);
    const [done] = await listExports(pool, site, owner, NOW);
    expect(done).toMatchObject({
      id: requested.id,
      status: 'done',
      rows: 3,
      from: '2026-03-29',
      to: '2026-03-29',
      expiresAt: NOW + EXPORT_LINK_TTL_MS,
    });
    const link = done!.link!;
    const note = await pool.query<{ title: string; link: string }>(
      'SELECT title, link FROM notifications WHERE user_id = $1',
      [owner.id],
    );
    expect(note.rows).toEqual([{ title: 'Your export of Shop is ready', link }]);
    expect(smtp.mails.map((m) => [m.to, m.subject])).toEqual([[['owner@x.test'], 'Your export of Shop is ready']]);
    expect(smtp.mails[0]!.body).toContain(`https://eddy.test${link}`);

    const token = link.replace('/api/exports/', '');
    const res = await exportDownload(pool, owner, token, NOW + 1000);
    const body = await res.text();
    expect(body).toBe(
      await text(exportBody(pool, siteId, 'events', 'csv', exportRange('Europe/Berlin', '2026-03-29', '2026-03-29'))),
    );
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="eddy-x.test-raw-events-2026-03-29-2026-03-29.csv"',
    );

    // Tampered: the MAC, the expiry pushed out, another export id.
    const [id, exp, mac] = token.split('.') as [string, string, string];
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const bad of [
      `${id}.${exp}.${flip(mac)}`,
      `${id}.${Number(exp) + 86_400_000}.${mac}`,
      `${randomUUID()}.${exp}.${mac}`,
      'not-a-token',
      `${id}.${exp}`,
    ]) {
      await expect(exportDownload(pool, owner, bad, NOW + 1000), bad).rejects.toThrow(/Export not found/);
    }
    // Expired: the same link a moment past its expiry.
    await expect(exportDownload(pool, owner, token, NOW + EXPORT_LINK_TTL_MS)).rejects.toThrow(/expired/);
    // Someone else with the link (a member of the same team).
    await expect(exportDownload(pool, viewer, token, NOW + 1000)).rejects.toThrow(/Export not found/);
    // The requester demoted to viewer: 403.
    await pool.query("UPDATE memberships SET role = 'viewer' WHERE user_id = $1", [owner.id]);
    await expect(exportDownload(pool, owner, token, NOW + 1000)).rejects.toThrow(/role/);
    await pool.query("UPDATE memberships SET role = 'owner' WHERE user_id = $1", [owner.id]);
    // The retention job deletes it once expired, chunks included.
    await retentionJob({ db: pool }).runOnce(NOW + EXPORT_LINK_TTL_MS + 1);
    expect((await pool.query('SELECT count(*)::int AS n FROM export_chunks')).rows[0].n).toBe(0);
    expect(await listExports(pool, site, owner, NOW)).toEqual([]);
  });

  it('a byte stream of an export is pulled page by page', async () => {
    const stream = textStream(
      exportBody(pool, siteId, 'events', 'ndjson', exportRange('Europe/Berlin', '2026-03-28', '2026-03-30')),
    );
    const out = await new Response(stream).text();
    expect(out.trim().split('\n')).toHaveLength(5);
  });
});
