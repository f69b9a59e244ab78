import { describe, expect, it } from 'vitest';
import { breakdownCsv, csvCell } from './csv';

describe('CSV export', () => {
  it('quotes separators and neutralises spreadsheet formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(0.25)).toBe('0.2500');
    expect(csvCell(null)).toBe('');
  });

  it('writes the columns the dimension has', () => {
    const csv = breakdownCsv('page', [
      { value: '/a', visitors: 3, pageviews: 5, sessions: null, bounceRate: null, avgDurationMs: null },
    ]);
    expect(csv).toBe('Page,Visitors,Pageviews\r\n/a,3,5\r\n');
    const entry = breakdownCsv('entry_page', [
      { value: '/', visitors: null, pageviews: null, sessions: 4, bounceRate: 0.5, avgDurationMs: 61_400 },
    ]);
    expect(entry).toBe('Entry page,Visits,Bounce rate,Avg. visit duration (s)\r\n/,4,0.5000,61\r\n');
  });
});
