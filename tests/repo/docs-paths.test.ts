import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Every file or folder of this repository that the docs name exists. A newcomer follows
// README → ARCHITECTURE → docs → lib READMEs by path; a path that moved (lib/collect/visitor-id.ts
// once did) sends them nowhere. Checked: paths in backticks that start at a top-level folder of the
// repository, in every Markdown file outside node_modules. Globs and placeholders are skipped.

const root = path.resolve(import.meta.dirname, '../..');
const TOP = [
  'app',
  'lib',
  'workers',
  'tests',
  'bench',
  'scripts',
  'server',
  'tracker',
  'components',
  'prisma',
  'docs',
  'packages',
  '.ci',
  'public',
];
const SKIP_DIRS = new Set(['node_modules', '.next', '.eddy', '.git', 'generated', 'artifacts']);

/** The repository's Markdown files: git's list (files other tests write while the suite runs are not docs), else a walk. */
function trackedMarkdown(): string[] {
  try {
    return execFileSync('git', ['ls-files', '-z', '--', '*.md'], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f && !f.split('/').some((part) => SKIP_DIRS.has(part)))
      .map((f) => path.join(root, f));
  } catch {
    return markdownFiles(root);
  }
}

/** A path git ignores is made by a build or a run (tests/artifacts, public/t.js): named, not committed. */
function generated(p: string): boolean {
  // A missing directory matches a "dir/" pattern only through something inside it.
  return [p, `${p}/x`].some((q) => {
    try {
      execFileSync('git', ['check-ignore', '-q', '--no-index', q], { cwd: root });
      return true;
    } catch {
      return false;
    }
  });
}

function markdownFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    if (SKIP_DIRS.has(entry)) continue;
    const p = path.join(dir, entry);
    const st = statSync(p);
    if (st.isDirectory()) markdownFiles(p, out);
    else if (entry.endsWith('.md')) out.push(p);
  }
  return out;
}

/** Root-anchored repository paths named in backticks in a Markdown text. */
export function namedPaths(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/`([^`\n]+)`/g)) {
    for (const token of m[1]!.split(/\s+/)) {
      const t = token
        .replace(/^[("']+/, '')
        .replace(/[)"',;.]+$/, '')
        .replace(/:\d+(-\d+)?$/, '');
      const top = t.split('/')[0]!;
      if (!t.includes('/') || !TOP.includes(top)) continue;
      // Globs, placeholders, elisions and URL-ish paths name no single file.
      if (/[*…<>{}?$]|\.\.\.|\/\/|#/.test(t)) continue;
      out.push(t.replace(/\/$/, ''));
    }
  }
  return out;
}

describe('paths named in the docs', () => {
  it('every path a Markdown file names in backticks exists', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const file of trackedMarkdown()) {
      for (const p of namedPaths(readFileSync(file, 'utf8'))) {
        checked++;
        if (!existsSync(path.join(root, p)) && !generated(p)) missing.push(`${path.relative(root, file)}: ${p}`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });

  it('finds the paths it must check, and skips globs and placeholders (the check can fail)', () => {
    expect(
      namedPaths(
        'see `lib/collect/visitor-id.ts`, `workers/runtime.ts:42` and (`app/(dashboard)/sites/[siteId]/page.tsx`).',
      ),
    ).toEqual(['lib/collect/visitor-id.ts', 'workers/runtime.ts', 'app/(dashboard)/sites/[siteId]/page.tsx']);
    expect(namedPaths('`lib/**/*.test.ts`, `docs/<name>.md`, `npm test`, `https://x.test/a/b`, `a/b`')).toEqual([]);
    expect(existsSync(path.join(root, 'lib/collect/visitor-id.ts'))).toBe(false);
    // A generated path is named without being committed; a stale source path is not generated.
    expect(generated('tests/artifacts')).toBe(true);
    expect(generated('lib/collect/visitor-id.ts')).toBe(false);
  });
});
