import { dimensionLabel, type Dimension } from './dimensions';
import type { BreakdownRow } from './metrics';

// CSV export of a breakdown table (RFC 4180). Cells that a spreadsheet would run as a formula
// (=, +, -, @, tab, CR at the start) are prefixed with ' — page paths and referrers come from
// the public internet. Pure.

export function csvCell(v: string | number | null): string {
  if (v === null) return '';
  let s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v;
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function breakdownCsv(dimension: Dimension, rows: BreakdownRow[]): string {
  const cols: { header: string; get: (r: BreakdownRow) => string | number | null }[] = [
    { header: dimensionLabel[dimension], get: (r) => r.value },
  ];
  const has = (k: keyof BreakdownRow) => rows.some((r) => r[k] !== null);
  if (has('visitors') || rows.length === 0) cols.push({ header: 'Visitors', get: (r) => r.visitors });
  if (has('pageviews') || rows.length === 0) cols.push({ header: 'Pageviews', get: (r) => r.pageviews });
  if (has('sessions')) cols.push({ header: 'Visits', get: (r) => r.sessions });
  if (has('bounceRate')) cols.push({ header: 'Bounce rate', get: (r) => r.bounceRate });
  if (has('avgDurationMs'))
    cols.push({
      header: 'Avg. visit duration (s)',
      get: (r) => (r.avgDurationMs === null ? null : Math.round(r.avgDurationMs / 1000)),
    });
  const lines = [
    cols.map((c) => csvCell(c.header)).join(','),
    ...rows.map((r) => cols.map((c) => csvCell(c.get(r))).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}
