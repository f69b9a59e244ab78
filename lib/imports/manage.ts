import { createHash } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import type { MemberSite } from '../auth/access';
import type { CurrentUser } from '../auth/current-user';
import { EddyError } from '../errors';
import { SOURCES, type Source } from './sources';
import { transaction } from '@/lib/db/transaction';

// Queuing imports and reporting on them. The imports job (workers/imports) runs them.

export const MAX_IMPORT_BYTES = 50 * 1024 * 1024;
/** Source partitions per raw import (workers/imports/run-import.ts); each import gets its own block above 1,000,000. */
export const IMPORT_PARTITIONS = 4;
const PARTITION_FLOOR = 1_000_000;

export const importQuerySchema = z.object({
  source: z.enum(SOURCES as [Source, ...Source[]]),
  filename: z.string().trim().min(1).max(200),
});

export interface ImportView {
  id: string;
  source: Source;
  filename: string;
  status: string;
  rowsTotal: number;
  rowsRead: number;
  rowsImported: number;
  rowsSkipped: number;
  skipped: Record<string, number>;
  firstDay: string | null;
  lastDay: string | null;
  /** 0..1 */
  progress: number;
  error: string | null;
  /** An earlier import of this site had the same file. */
  sameFileAs: string | null;
  createdAt: number;
}

type Row = {
  id: string;
  source: Source;
  filename: string;
  file_sha256: string;
  status: string;
  rows_total: number;
  rows_read: number;
  rows_imported: number;
  rows_skipped: number;
  skipped: Record<string, number>;
  first_day: string | null;
  last_day: string | null;
  error: string | null;
  created_at: Date;
};

function view(r: Row, sameFileAs: string | null): ImportView {
  return {
    id: r.id,
    source: r.source,
    filename: r.filename,
    status: r.status,
    rowsTotal: r.rows_total,
    rowsRead: r.rows_read,
    rowsImported: r.rows_imported,
    rowsSkipped: r.rows_skipped,
    skipped: r.skipped,
    firstDay: r.first_day,
    lastDay: r.last_day,
    progress: r.status === 'done' ? 1 : r.rows_total ? Math.min(1, r.rows_read / r.rows_total) : 0,
    error: r.error,
    sameFileAs,
    createdAt: r.created_at.getTime(),
  };
}

export async function createImport(
  p: pg.Pool,
  site: MemberSite,
  user: CurrentUser,
  q: z.infer<typeof importQuerySchema>,
  file: Buffer,
): Promise<ImportView> {
  if (file.length === 0) throw new EddyError('bad_request', 'file: is empty');
  if (file.length > MAX_IMPORT_BYTES)
    throw new EddyError('payload_too_large', `file: at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB`);
  const sha = createHash('sha256').update(file).digest('hex');
  return transaction(p, async (c) => {
    // One block of source partitions per import: serialise the choice.
    await c.query("SELECT pg_advisory_xact_lock(hashtext('eddy-import-partitions'))");
    const same = await c.query<{ id: string }>(
      "SELECT id FROM imports WHERE site_id = $1 AND file_sha256 = $2 AND status = 'done' ORDER BY created_at LIMIT 1",
      [site.id, sha],
    );
    const r = await c.query<Row>(
      `INSERT INTO imports (id, site_id, user_id, source, filename, file_sha256, file, partition_base)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, (SELECT COALESCE(max(partition_base) + $7, $8) FROM imports)) RETURNING *`,
      [site.id, user.id, q.source, q.filename, sha, file, IMPORT_PARTITIONS, PARTITION_FLOOR],
    );
    return view(r.rows[0]!, same.rows[0]?.id ?? null);
  });
}

export async function listImports(p: pg.Pool, siteId: string): Promise<ImportView[]> {
  const r = await p.query<Row>(
    'SELECT id, source, filename, file_sha256, status, rows_total, rows_read, rows_imported, rows_skipped, skipped, first_day, last_day, error, created_at FROM imports WHERE site_id = $1 ORDER BY created_at DESC LIMIT 50',
    [siteId],
  );
  return r.rows.map((x) =>
    view(
      x,
      r.rows.find((o) => o.id !== x.id && o.file_sha256 === x.file_sha256 && o.created_at < x.created_at)?.id ?? null,
    ),
  );
}

/** Days of a site's dashboard that hold imported data, per source (the dashboard marks them). */
export async function importedRanges(
  p: pg.Pool,
  siteId: string,
): Promise<{ source: Source; firstDay: string; lastDay: string }[]> {
  const r = await p.query<{ source: Source; first_day: string; last_day: string }>(
    "SELECT source, min(first_day) AS first_day, max(last_day) AS last_day FROM imports WHERE site_id = $1 AND status = 'done' AND rows_imported > 0 GROUP BY source ORDER BY source",
    [siteId],
  );
  return r.rows.map((x) => ({ source: x.source, firstDay: x.first_day, lastDay: x.last_day }));
}

/** The uploaded file (the raw request body), refused past MAX_IMPORT_BYTES before it is all buffered. */
export async function readUpload(req: Request): Promise<Buffer> {
  if (Number(req.headers.get('content-length') ?? '0') > MAX_IMPORT_BYTES)
    throw new EddyError('payload_too_large', `file: at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB`);
  if ((req.headers.get('content-encoding') ?? 'identity') !== 'identity')
    throw new EddyError('unsupported_media_type', 'Upload the file as it is (no Content-Encoding)');
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_IMPORT_BYTES) {
        await reader.cancel();
        throw new EddyError('payload_too_large', `file: at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB`);
      }
      chunks.push(value);
    }
  }
  return Buffer.concat(chunks);
}
