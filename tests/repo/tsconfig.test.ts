import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './package-facts';

// npm test type-checks with tsconfig.json before anything else runs, so code that breaks these
// flags fails there; this pins the flags themselves, so switching one off is a visible failure.
describe('tsconfig.json', () => {
  const options = (
    JSON.parse(readFileSync(path.join(repoRoot, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: Record<string, unknown>;
    }
  ).compilerOptions;

  it.each(['strict', 'noUncheckedIndexedAccess', 'noImplicitOverride', 'noUnusedLocals', 'noUnusedParameters'])(
    'has %s on',
    (flag) => {
      expect(options[flag]).toBe(true);
    },
  );
});
