import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './services/util';

// Builds the tracker and the Next.js app when a source is newer than the last build, so a
// second `npm start` (or test run) skips the ~20 s build.

const sources = [
  'app',
  'components',
  'lib',
  'tracker',
  'instrumentation-client.ts',
  'next.config.mjs',
  'postcss.config.mjs',
  'package-lock.json',
  'tsconfig.json',
];

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

/** True when the build is missing or older than a source. */
function stale(): boolean {
  const stamp = path.join(repoRoot, '.next/BUILD_ID');
  const tracker = path.join(repoRoot, 'public/t.js');
  const builtAt =
    existsSync(stamp) && existsSync(tracker) ? Math.min(statSync(stamp).mtimeMs, statSync(tracker).mtimeMs) : 0;
  const changedAt = Math.max(...sources.map((s) => newest(path.join(repoRoot, s))));
  return builtAt <= changedAt;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Several processes (test runs, benchmarks, `npm start`) may want a build at once, and Next.js
 * refuses a second concurrent build: take a lock (an atomic mkdir holding the owner's pid), wait
 * for a running build, then decide again.
 */
function withBuildLock(fn: () => void): void {
  const lock = path.join(repoRoot, '.eddy', 'build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
        process.kill(owner, 0);
      } catch {
        if (owner || Date.now() - statSync(lock).mtimeMs > 5_000) rmSync(lock, { recursive: true, force: true }); // owner gone
      }
      sleep(1000);
    }
  }
  try {
    fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function buildIfNeeded(): void {
  if (!stale()) return;
  withBuildLock(() => {
    if (stale()) buildNow();
  });
}

function buildNow(): void {
  console.log('[build] building the tracker and the web app (first run or sources changed)…');
  const r = spawnSync('npm', ['run', '--silent', 'build'], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (r.status !== 0) throw new Error(`Build failed (exit ${r.status})`);
}
