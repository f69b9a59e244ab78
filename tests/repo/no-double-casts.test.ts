import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 18: state crosses the checkpoint seam through versioned codecs (lib/stream/state-codec.ts)
// and the library's narrowing helpers, so production code in lib/ and workers/ never needs to tell
// the compiler "trust me" twice. A double cast is where a half-read checkpoint or a wrongly shaped
// row would slip through unchecked; tests and test support may still build fakes that way.

const root = path.resolve(import.meta.dirname, '../..');
const DOUBLE_CAST = /\bas\s+unknown\s+as\b/;

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!['generated', 'test-support', 'node_modules'].includes(entry.name)) sources(p, out);
    } else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) out.push(p);
  }
  return out;
}

describe('no double casts in lib/ and workers/', () => {
  it('finds none (and the check sees one when there is one)', () => {
    const files = ['lib', 'workers'].flatMap((d) => sources(path.join(root, d)));
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          DOUBLE_CAST.test(line) && !line.trim().startsWith('//')
            ? [`${path.relative(root, f)}:${i + 1}: ${line.trim()}`]
            : [],
        ),
    );
    expect(offenders).toEqual([]);
    expect(DOUBLE_CAST.test('const x = y as  unknown\tas Json;')).toBe(true);
  });
});
