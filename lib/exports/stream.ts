import type pg from 'pg';
import { eventRecordSchema } from '../events/record';
import { countVisitors } from '../analytics/visitors';
import { dailyTotals } from '../rollups/daily-export';
import { csvLine, rawHeader, rawLine, ROLLUP_COLUMNS, type ExportFormat } from './formats';
import { DAY } from '@/lib/time';

// Exports as async iterables of text, produced a page at a time: the archive is read by keyset
// pagination on (site_id, ts, event_id) — the archive's own index — so memory holds one page,
// whatever the range, and a consumer that stops reading stops the queries (pull, not push).

export const EXPORT_PAGE_ROWS = 5000;

/** Rollup rows written by an aggregate import (Plausible's CSVs) carry this source partition or below. */
export const IMPORTED_PARTITION = -1000;

export interface ExportRange {
  /** Inclusive, ms. */
  from: number;
  /** Exclusive, ms. */
  to: number;
}

/** The raw events of a site in a range, oldest first, as CSV or NDJSON lines (CSV with its header first). */
export async function* rawEventsExport(
  p: pg.Pool,
  siteId: string,
  range: ExportRange,
  format: ExportFormat,
  stats: { rows: number } = { rows: 0 },
  pageRows = EXPORT_PAGE_ROWS,
): AsyncGenerator<string> {
  const header = rawHeader(format);
  if (header) yield header;
  let after: { ts: Date; id: string } | null = null;
  for (;;) {
    const page: pg.QueryResult<{ ts: Date; event_id: string; record: unknown }> = after
      ? await p.query(
          `SELECT ts, event_id, record FROM events WHERE site_id = $1 AND ts < $3 AND (ts, event_id) > ($4, $5) ORDER BY ts, event_id LIMIT $2`,
          [siteId, pageRows, new Date(range.to), after.ts, after.id],
        )
      : await p.query(
          `SELECT ts, event_id, record FROM events WHERE site_id = $1 AND ts >= $3 AND ts < $4 ORDER BY ts, event_id LIMIT $2`,
          [siteId, pageRows, new Date(range.from), new Date(range.to)],
        );
    let chunk = '';
    for (const row of page.rows) {
      const parsed = eventRecordSchema.safeParse(row.record);
      // Every archived record was validated by the same schema on its way in; one that no longer parses is skipped.
      if (!parsed.success) continue;
      chunk += rawLine(format, parsed.data);
      stats.rows++;
    }
    if (chunk) yield chunk;
    if (page.rows.length < pageRows) return;
    const last = page.rows[page.rows.length - 1]!;
    after = { ts: last.ts, id: last.event_id };
  }
}

/**
 * Daily rollups (the dashboard's totals per local day) as CSV: visitors from the merged day
 * sketches, visits/bounces/duration from the sessions job. Imported days (source partition
 * IMPORTED_PARTITION) are marked. A page is 100 days.
 */
export async function* dailyRollupsExport(
  p: pg.Pool,
  siteId: string,
  range: ExportRange,
  stats: { rows: number } = { rows: 0 },
): AsyncGenerator<string> {
  yield csvLine([...ROLLUP_COLUMNS]);
  for (let from = range.from; from < range.to; from += 100 * DAY) {
    const to = Math.min(range.to, from + 100 * DAY);
    const rows = await dailyTotals(p, siteId, from, to, IMPORTED_PARTITION);
    let chunk = '';
    for (const r of rows) {
      const visitors = Math.round(countVisitors(r.sketches));
      const sessions = Number(r.sessions);
      stats.rows++;
      chunk += csvLine([
        r.bucket.toISOString().slice(0, 10),
        visitors,
        Number(r.pageviews),
        Number(r.events),
        sessions,
        Number(r.bounces),
        sessions ? Math.round(Number(r.duration_ms) / 1000) : 0,
        r.imported ? 'yes' : 'no',
      ]);
    }
    if (chunk) yield chunk;
  }
}

/** A pull-based byte stream over text chunks: the next page is read only when the client has taken the last. */
export function textStream(chunks: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await it.next();
      if (next.done) controller.close();
      else controller.enqueue(enc.encode(next.value));
    },
    async cancel() {
      await it.return?.(undefined);
    },
  });
}
