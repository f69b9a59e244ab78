import type pg from 'pg';
import { z } from 'zod';
import { addDays, daysBetween, isIsoDate, localDate, zonedMidnight } from '../analytics/time-zone';
import type { MemberSite } from '../auth/access';
import { siteForMember } from '../auth/access';
import type { CurrentUser } from '../auth/current-user';
import { topics, type Bus } from '../bus';
import { publicUrl } from '../env';
import { EddyError } from '../errors';
import type { NotifyMessage } from '../notify/in-app';
import { sendEmail } from '../notify/channels';
import { EXPORT_FORMATS, type ExportFormat } from './formats';
import { EXPORT_LINK_TTL_MS, signExportLink, verifyExportLink } from './link';
import { dailyRollupsExport, rawEventsExport, type ExportRange } from './stream';
import { MINUTE } from '@/lib/time';

// Exports of a site's data (issue 16). Owner of `exports` and `export_chunks`.
//
// Any range can be downloaded at once, streamed (app/api/sites/[siteId]/exports/…). A long one —
// more than SYNC_MAX_DAYS of raw events — can instead be prepared in the background by the
// exports job (workers/exports): the file is written to PostgreSQL in ~1 MiB chunks (so every
// web process can serve it), then the requester gets an in-app notification and an email with a
// signed link that expires after EXPORT_LINK_TTL_MS (lib/exports/link.ts); expired exports are
// deleted by the retention job. A job that dies mid-export leaves the row `running`: after
// STALE_CLAIM_MS another pass claims it again and starts the file over.

export const SYNC_MAX_DAYS = 31;
export const MAX_RANGE_DAYS = 3660;
export const PENDING_PER_USER = 3;
const CHUNK_BYTES = 1 << 20;
const STALE_CLAIM_MS = 10 * MINUTE;

export const exportKinds = ['events', 'rollups'] as const;
const isoDate = z.string().refine(isIsoDate, 'must be a date like 2026-03-28');

export const exportRequestSchema = z
  .object({ kind: z.enum(exportKinds), format: z.enum(EXPORT_FORMATS).default('csv'), from: isoDate, to: isoDate })
  .refine((x) => x.from <= x.to, { message: 'must not be after to', path: ['from'] })
  .refine((x) => daysBetween(x.from, x.to) < MAX_RANGE_DAYS, {
    message: `a range is at most ${MAX_RANGE_DAYS} days`,
    path: ['to'],
  })
  .refine((x) => x.kind === 'events' || x.format === 'csv', {
    message: 'daily rollups are exported as CSV',
    path: ['format'],
  });
export type ExportRequest = z.infer<typeof exportRequestSchema>;

/** Whole local days of the site, `to` included. */
export function exportRange(timezone: string, from: string, to: string): ExportRange {
  return { from: zonedMidnight(from, timezone), to: zonedMidnight(addDays(to, 1), timezone) };
}

export function exportFilename(domain: string, kind: string, format: string, from: string, to: string): string {
  return `eddy-${domain}-${kind === 'events' ? 'raw-events' : 'daily'}-${from}-${to}.${format}`
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 120);
}

export function exportBody(
  p: pg.Pool,
  siteId: string,
  kind: (typeof exportKinds)[number],
  format: ExportFormat,
  range: ExportRange,
  stats?: { rows: number },
): AsyncGenerator<string> {
  return kind === 'events'
    ? rawEventsExport(p, siteId, range, format, stats)
    : dailyRollupsExport(p, siteId, range, stats);
}

export interface ExportView {
  id: string;
  kind: string;
  format: string;
  from: string;
  to: string;
  status: string;
  rows: number;
  bytes: number;
  createdAt: number;
  expiresAt: number | null;
  /** Signed download link (done and not expired), for the user who asked. */
  link: string | null;
  error: string | null;
}

type ExportRow = {
  id: string;
  site_id: string;
  user_id: string;
  kind: 'events' | 'rollups';
  format: ExportFormat;
  range_from: Date;
  range_to: Date;
  status: string;
  rows: string;
  bytes: string;
  error: string | null;
  created_at: Date;
  expires_at: Date | null;
};

function view(r: ExportRow, timezone: string, now: number): ExportView {
  const day = (ms: number) => localDate(ms, timezone);
  const expires = r.expires_at?.getTime() ?? null;
  return {
    id: r.id,
    kind: r.kind,
    format: r.format,
    from: day(r.range_from.getTime()),
    to: day(r.range_to.getTime() - 1),
    status: r.status === 'done' && expires !== null && now >= expires ? 'expired' : r.status,
    rows: Number(r.rows),
    bytes: Number(r.bytes),
    createdAt: r.created_at.getTime(),
    expiresAt: expires,
    link:
      r.status === 'done' && expires !== null && now < expires
        ? `/api/exports/${signExportLink(r.id, r.user_id, expires)}`
        : null,
    error: r.error,
  };
}

export async function requestExport(
  p: pg.Pool,
  site: MemberSite,
  user: CurrentUser,
  input: ExportRequest,
  now = Date.now(),
): Promise<ExportView> {
  const pending = await p.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM exports WHERE user_id = $1 AND status IN ('pending', 'running')",
    [user.id],
  );
  if (pending.rows[0]!.n >= PENDING_PER_USER)
    throw new EddyError(
      'rate_limited',
      `At most ${PENDING_PER_USER} exports in preparation at a time; wait for one to finish`,
      { retryAfter: 60 },
    );
  const range = exportRange(site.timezone, input.from, input.to);
  const r = await p.query<ExportRow>(
    `INSERT INTO exports (id, site_id, user_id, kind, format, range_from, range_to, created_at) VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [site.id, user.id, input.kind, input.format, new Date(range.from), new Date(range.to), new Date(now)],
  );
  return view(r.rows[0]!, site.timezone, now);
}

/** The caller's exports of this site, newest first. */
export async function listExports(
  p: pg.Pool,
  site: MemberSite,
  user: CurrentUser,
  now = Date.now(),
): Promise<ExportView[]> {
  const r = await p.query<ExportRow>(
    'SELECT * FROM exports WHERE site_id = $1 AND user_id = $2 ORDER BY created_at DESC LIMIT 20',
    [site.id, user.id],
  );
  return r.rows.map((x) => view(x, site.timezone, now));
}

/** Prepares the oldest waiting export, if any: returns its id, or null when there was none. */
export async function runNextExport(p: pg.Pool, b: Bus | null, now: number): Promise<string | null> {
  const claimed = await p.query<ExportRow & { timezone: string; domain: string; name: string }>(
    `UPDATE exports e SET status = 'running', claimed_at = $1 FROM sites s
      WHERE e.id = (SELECT id FROM exports WHERE status = 'pending' OR (status = 'running' AND claimed_at < $2) ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        AND s.id = e.site_id
      RETURNING e.*, s.timezone, s.domain, s.name`,
    [new Date(now), new Date(now - STALE_CLAIM_MS)],
  );
  const job = claimed.rows[0];
  if (!job) return null;
  try {
    await p.query('DELETE FROM export_chunks WHERE export_id = $1', [job.id]);
    const stats = { rows: 0 };
    let seq = 0;
    let bytes = 0;
    let buf: Buffer[] = [];
    let size = 0;
    const flush = async () => {
      if (size === 0) return;
      await p.query('INSERT INTO export_chunks (export_id, seq, data) VALUES ($1, $2, $3)', [
        job.id,
        seq++,
        Buffer.concat(buf),
      ]);
      buf = [];
      size = 0;
    };
    for await (const text of exportBody(
      p,
      job.site_id,
      job.kind,
      job.format,
      { from: job.range_from.getTime(), to: job.range_to.getTime() },
      stats,
    )) {
      const chunk = Buffer.from(text, 'utf8');
      buf.push(chunk);
      size += chunk.length;
      bytes += chunk.length;
      if (size >= CHUNK_BYTES) await flush();
    }
    await flush();
    const expiresAt = now + EXPORT_LINK_TTL_MS;
    const done = await p.query<ExportRow>(
      "UPDATE exports SET status = 'done', rows = $2, bytes = $3, finished_at = $4, expires_at = $5 WHERE id = $1 AND status = 'running' RETURNING *",
      [job.id, stats.rows, bytes, new Date(now), new Date(expiresAt)],
    );
    if (done.rows[0]) await announce(p, b, job, signExportLink(job.id, job.user_id, expiresAt), stats.rows);
  } catch (e) {
    await p.query("UPDATE exports SET status = 'failed', error = $2, finished_at = $3 WHERE id = $1", [
      job.id,
      'The export failed; try again',
      new Date(now),
    ]);
    console.error(`[exports] export ${job.id} failed: ${(e as Error).message}`);
  }
  return job.id;
}

async function announce(
  p: pg.Pool,
  b: Bus | null,
  job: ExportRow & { name: string; domain: string },
  token: string,
  rows: number,
): Promise<void> {
  const link = `/api/exports/${token}`;
  const what = job.kind === 'events' ? 'raw events' : 'daily rollups';
  const title = `Your export of ${job.name} is ready`;
  const body = `${rows.toLocaleString('en-US')} row(s) of ${what}; the link works for 7 days.`;
  const n = await p.query<{ id: string; created_at: Date }>(
    'INSERT INTO notifications (user_id, site_id, title, body, link) VALUES ($1, $2, $3, $4, $5) RETURNING id::text, created_at',
    [job.user_id, job.site_id, title, body, link],
  );
  const row = n.rows[0]!;
  const msg: NotifyMessage = {
    type: 'notify',
    notifications: [
      { id: row.id, userId: job.user_id, siteId: job.site_id, title, body, link, createdAt: row.created_at.getTime() },
    ],
  };
  if (b)
    await b
      .producer()
      .send(topics.live, [{ key: job.site_id, value: JSON.stringify(msg) }])
      .catch(() => undefined);
  const user = await p.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [job.user_id]);
  const email = user.rows[0]?.email;
  // No SMTP configured: the in-app notification is the notice.
  if (email) await sendEmail([email], title, `${body}\n\nDownload (sign in as ${email}): ${publicUrl()}${link}\n`);
}

/** The file of a finished export behind a signed link, streamed chunk by chunk, for its requester while they still own the site. */
export async function exportDownload(
  p: pg.Pool,
  user: CurrentUser,
  token: string,
  now = Date.now(),
): Promise<Response> {
  const check = verifyExportLink(token, user.id, now);
  if (!check.ok)
    throw new EddyError(
      'not_found',
      check.reason === 'expired' ? 'This download link has expired; export again' : 'Export not found',
    );
  const r = await p.query<ExportRow>("SELECT * FROM exports WHERE id = $1 AND user_id = $2 AND status = 'done'", [
    check.exportId,
    user.id,
  ]);
  const row = r.rows[0];
  if (!row) throw new EddyError('not_found', 'Export not found');
  const site = await siteForMember(user.id, row.site_id, 'owner');
  const v = view(row, site.timezone, now);
  let seq = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const c = await p.query<{ data: Buffer }>('SELECT data FROM export_chunks WHERE export_id = $1 AND seq = $2', [
        row.id,
        seq++,
      ]);
      if (c.rows[0]) controller.enqueue(new Uint8Array(c.rows[0].data));
      else controller.close();
    },
  });
  return new Response(stream, {
    headers: {
      'Content-Type': row.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="${exportFilename(site.domain, row.kind, row.format, v.from, v.to)}"`,
      'Content-Length': String(row.bytes),
    },
  });
}
