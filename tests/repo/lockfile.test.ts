import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../..');

// CI, the Dockerfile and the README install with `npm ci`, which refuses a lockfile that is out of
// step with package.json (npm 11 also wants every platform's optional packages listed, e.g.
// @next/swc-* and @tailwindcss/oxide-*). Asking npm itself is the only faithful check. It runs in a
// scratch copy (never near the shared node_modules), without scripts, from the npm cache when it can.
describe('package-lock.json', () => {
  it('is what `npm ci` accepts for package.json', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'eddy-lockfile-'));
    try {
      for (const f of ['package.json', 'package-lock.json']) copyFileSync(path.join(repoRoot, f), path.join(dir, f));
      const r = spawnSync(
        'npm',
        ['ci', '--dry-run', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
        {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, npm_config_loglevel: 'error' },
        },
      );
      const errors = r.stderr
        .split('\n')
        .filter((l) => l.startsWith('npm error'))
        .join('\n');
      expect(errors, 'npm ci --dry-run failed: run `npm install` and commit package-lock.json').toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
