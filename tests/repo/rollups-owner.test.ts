import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 18 §3, one owner per table: every statement on `rollups` and its compacted day cache lives
// in lib/rollups/, so a change of the table's shape or of how it is read has one place to look, and
// a query written against it elsewhere is a new query the owner does not know. Callers (the jobs,
// the dashboard, live, alerts, digest, exports) call the owner's functions. Tests and test support
// may still read the table to check what the jobs wrote.

const root = path.resolve(import.meta.dirname, '../..');
const OWNER = path.join('lib', 'rollups') + path.sep;
const TABLES = ['rollups', 'rollup_days', 'rollup_day_sketches', 'rollup_day_versions'];
// SQL keywords are upper case in this codebase, so prose ("read from the rollups") never matches;
// a schema-qualified name (public.rollups) does.
const STATEMENT = new RegExp(
  `\\b(?:FROM|JOIN|INTO|UPDATE|TABLE|TRUNCATE)\\s+(?:"?\\w+"?\\.)?"?(${TABLES.join('|')})\\b`,
  'g',
);

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!['generated', 'test-support', 'node_modules'].includes(entry.name)) sources(p, out);
    } else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) out.push(p);
  }
  return out;
}

/** `file:line: table` for each statement on an owned table in the text. */
function statements(file: string, text: string): string[] {
  return [...text.matchAll(STATEMENT)].map((m) => {
    const line = text.slice(0, m.index).split('\n').length;
    return `${file}:${line}: ${m[1]}`;
  });
}

describe('lib/rollups/ owns the rollups table and its day cache', () => {
  const files = ['lib', 'workers', 'server', 'app'].flatMap((d) => sources(path.join(root, d)));
  const relative = (f: string) => path.relative(root, f);
  const found = files.flatMap((f) => statements(relative(f), readFileSync(f, 'utf8')));

  it('no file outside lib/rollups/ writes SQL against them', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(found.filter((s) => !s.startsWith(OWNER))).toEqual([]);
  });

  it('the check sees statements where they are (the owner, and a planted one)', () => {
    const owned = new Set(found.filter((s) => s.startsWith(OWNER)).map((s) => s.slice(s.lastIndexOf(' ') + 1)));
    expect([...owned].sort()).toEqual([...TABLES].sort());
    expect(statements('x.ts', 'q(`SELECT 1\n  FROM rollups r WHERE r.site_id = $1`)')).toEqual(['x.ts:2: rollups']);
    expect(statements('x.ts', "q('DELETE FROM rollup_days WHERE day = $1')")).toEqual(['x.ts:1: rollup_days']);
    expect(statements('x.ts', 'INSERT INTO public.rollups (site_id) VALUES ($1)')).toEqual(['x.ts:1: rollups']);
    expect(statements('x.ts', 'UPDATE rollups SET pageviews = 0')).toEqual(['x.ts:1: rollups']);
    // Another table with the name inside, and prose, are not statements on it.
    expect(statements('x.ts', 'SELECT kind FROM event_rollups; // computed from the rollups')).toEqual([]);
  });
});
