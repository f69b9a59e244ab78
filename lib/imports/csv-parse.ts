// RFC 4180 CSV: quoted fields with "" escapes and line breaks inside quotes, CRLF or LF, a
// header line naming the columns. Rows come back as objects by header name, so columns may come
// in any order and extra ones are ignored. A row with a different number of cells than the
// header is reported as malformed rather than guessed at. Linear in the input. Pure.

export type CsvRow =
  { ok: true; line: number; cells: Record<string, string> } | { ok: false; line: number; reason: string };

export function* parseCsv(text: string): Generator<CsvRow, void, undefined> {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const record = (): string[] | null => {
    if (i >= text.length) return null;
    const cells: string[] = [];
    let cell = '';
    for (;;) {
      if (text[i] === '"') {
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) {
            cell += text.slice(i);
            i = text.length;
            break;
          }
          const part = text.slice(i, q);
          for (let k = 0; k < part.length; k++) if (part.charCodeAt(k) === 10) line++;
          cell += part;
          i = q + 1;
          if (text[i] === '"') {
            cell += '"';
            i++;
          } else break;
        }
      }
      // Unquoted (or the rest after a closing quote) up to , or end of line.
      let j = i;
      while (j < text.length && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
      cell += text.slice(i, j);
      i = j;
      cells.push(cell);
      cell = '';
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      return cells;
    }
  };
  const header = record();
  if (!header) return;
  const names = header.map((h) => h.trim().toLowerCase());
  for (;;) {
    line++;
    const at = line;
    const cells = record();
    if (cells === null) return;
    if (cells.length === 1 && cells[0] === '') continue; // blank line
    if (cells.length !== names.length) {
      yield { ok: false, line: at, reason: 'malformed row (wrong number of cells)' };
      continue;
    }
    const row: Record<string, string> = {};
    names.forEach((n, k) => (row[n] = cells[k]!));
    yield { ok: true, line: at, cells: row };
  }
}
