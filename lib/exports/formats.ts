import { csvCell } from '../analytics/csv';
import type { EventRecord } from '../events/record';

// The columns of a raw-events export, the same in CSV and NDJSON, one line per event. Pure.
// CSV cells go through csvCell (RFC 4180, and a leading =, +, -, @ is defused: paths and
// referrers come from the public internet and a spreadsheet would run them as formulas).

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const RAW_COLUMNS = [
  'event_id',
  'timestamp',
  'received_at',
  'name',
  'visitor_id',
  'url',
  'hostname',
  'path',
  'referrer',
  'referrer_host',
  'channel',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'country',
  'device',
  'browser',
  'os',
  'visible_ms',
  'scroll_depth',
  'props',
] as const;

type RawRow = Record<(typeof RAW_COLUMNS)[number], string | number | null>;

/** One archived event as an export row. `visitor_id` is the daily-salted hash collect derived: no IP, no cookie. */
export function rawRow(e: EventRecord): RawRow {
  return {
    event_id: e.eventId,
    timestamp: new Date(e.ts).toISOString(),
    received_at: e.receivedAt === undefined ? null : new Date(e.receivedAt).toISOString(),
    name: e.name,
    visitor_id: e.visitorId,
    url: e.url,
    hostname: e.hostname,
    path: e.path,
    referrer: e.referrer ?? null,
    referrer_host: e.referrerHost ?? null,
    channel: e.channel,
    utm_source: e.utm?.source ?? null,
    utm_medium: e.utm?.medium ?? null,
    utm_campaign: e.utm?.campaign ?? null,
    utm_term: e.utm?.term ?? null,
    utm_content: e.utm?.content ?? null,
    country: e.country ?? null,
    device: e.device,
    browser: e.browser,
    os: e.os,
    visible_ms: e.engagement?.visibleMs ?? null,
    scroll_depth: e.engagement?.scrollDepth ?? null,
    props: e.props && Object.keys(e.props).length ? JSON.stringify(e.props) : null,
  };
}

export function csvLine(cells: (string | number | null)[]): string {
  return `${cells.map((c) => csvCell(typeof c === 'number' && !Number.isInteger(c) ? String(c) : c)).join(',')}\r\n`;
}

export function rawHeader(format: ExportFormat): string {
  return format === 'csv' ? csvLine([...RAW_COLUMNS]) : '';
}

export function rawLine(format: ExportFormat, e: EventRecord): string {
  const row = rawRow(e);
  if (format === 'csv') return csvLine(RAW_COLUMNS.map((c) => row[c]));
  // NDJSON: the same columns; props as an object, absent values as null.
  return `${JSON.stringify({ ...row, props: e.props ?? null })}\n`;
}

export const ROLLUP_COLUMNS = [
  'date',
  'visitors',
  'pageviews',
  'events',
  'visits',
  'bounces',
  'visit_duration_s',
  'imported',
] as const;
