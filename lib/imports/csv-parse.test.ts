import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv-parse';

describe('parseCsv', () => {
  it('reads quoted cells with commas, quotes and line breaks, CRLF and LF, columns by name', () => {
    const rows = [...parseCsv('\ufeffB,a\r\n"x, ""y""","multi\nline"\n2,3\n\n4\n5,6')];
    expect(rows).toEqual([
      { ok: true, line: 2, cells: { b: 'x, "y"', a: 'multi\nline' } },
      { ok: true, line: 4, cells: { b: '2', a: '3' } },
      { ok: false, line: 6, reason: 'malformed row (wrong number of cells)' },
      { ok: true, line: 7, cells: { b: '5', a: '6' } },
    ]);
  });

  it('an unterminated quote runs to the end of the file as one cell', () => {
    const rows = [...parseCsv(`a\n"${'x'.repeat(100_000)}`)];
    expect(rows).toEqual([{ ok: true, line: 2, cells: { a: 'x'.repeat(100_000) } }]);
  });
});
