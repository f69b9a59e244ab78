import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The lint rules in eslint.config.mjs are guardrails only if they fire: each is run here on a
// line that breaks it, in a file where it applies, and on the same line where it does not.

const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function rules(code: string, file: string): Promise<(string | null)[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return r!.messages.map((m) => m.ruleId);
}

describe('lint guardrails', () => {
  it('keeps the database, the pool and the settings out of components (what server-only would)', async () => {
    const component = 'components/sites/api-keys.tsx';
    expect(await rules("import { pool } from '@/lib/db/client';\nexport const p = pool;\n", component)).toContain(
      'no-restricted-imports',
    );
    expect(await rules("import pg from 'pg';\nexport const P = pg.Pool;\n", component)).toContain(
      'no-restricted-imports',
    );
    expect(await rules("import { env } from '@/lib/env';\nexport const e = env;\n", component)).toContain(
      'no-restricted-imports',
    );
    // A library module may.
    expect(
      await rules("import { pool } from '@/lib/db/client';\nexport const p = pool;\n", 'lib/sites/site-data.ts'),
    ).not.toContain('no-restricted-imports');
  }, 120_000);

  it('refuses any, duplicate imports and floating promises', async () => {
    const file = 'lib/sites/site-data.ts';
    expect(await rules('export const x: any = 1;\n', file)).toContain('@typescript-eslint/no-explicit-any');
    expect(
      await rules("import { a } from './a';\nimport { b } from './a';\nexport const c = [a, b];\n", file),
    ).toContain('no-duplicate-imports');
    expect(
      await rules('async function f(): Promise<void> {}\nexport function g(): void {\n  f();\n}\n', file),
    ).toContain('@typescript-eslint/no-floating-promises');
    expect(
      await rules('async function f(): Promise<void> {}\nexport function g(): void {\n  void f();\n}\n', file),
    ).not.toContain('@typescript-eslint/no-floating-promises');
  }, 120_000);
});
