import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTING_NAMES } from '@/lib/env';

// Issue 14: every setting lib/env.ts reads is in the README's settings table, so a newcomer can
// find each one (and a new setting without a row fails here, not in a support thread).

describe('README settings table', () => {
  it('names every setting that lib/env.ts reads', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Settings'), readme.indexOf('## ', readme.indexOf('## Settings') + 3));
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    const missing = SETTING_NAMES.filter((name) => !rows.some((r) => r.split('|')[1]!.includes(`\`${name}\``)));
    expect(missing).toEqual([]);
    expect(rows.length).toBeGreaterThan(20);
  });
});
