import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './services/util';

// Builds the tracker and the Next.js app when a source is newer than the last build, so a
// second `npm start` (or test run) skips the ~20 s build.

const sources = ['app', 'components', 'lib', 'tracker', 'next.config.mjs', 'postcss.config.mjs', 'package-lock.json', 'tsconfig.json'];

function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const entry of readdirSync(p)) {
    if (entry === 'generated' || entry === 'node_modules') continue;
    max = Math.max(max, newest(path.join(p, entry)));
  }
  return max;
}

export function buildIfNeeded(): void {
  const stamp = path.join(repoRoot, '.next/BUILD_ID');
  const tracker = path.join(repoRoot, 'public/t.js');
  const builtAt = existsSync(stamp) && existsSync(tracker) ? Math.min(statSync(stamp).mtimeMs, statSync(tracker).mtimeMs) : 0;
  const changedAt = Math.max(...sources.map((s) => newest(path.join(repoRoot, s))));
  if (builtAt > changedAt) return;
  console.log('[build] building the tracker and the web app (first run or sources changed)…');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  if (r.status !== 0) throw new Error(`Build failed (exit ${r.status})`);
}
