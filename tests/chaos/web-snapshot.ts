import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { env } from '@/lib/env';
import { repoRoot, sleep } from './util';

// The web process serves the Next.js build in .next. In a shared working copy another process may
// rebuild it at any moment (the build deletes .next first), and F7 restarts the web process many
// times per run, so the suite runs the web process from a private snapshot: a directory of
// symlinks to the repository with its own copy of .next (without the build cache), started with
// --preserve-symlinks so Next.js resolves the snapshot, not the shared .next.

export interface WebSnapshot {
  root: string;
  buildId: string;
  remove(): void;
}

const buildIdOf = (dir: string) =>
  existsSync(path.join(dir, '.next/BUILD_ID')) ? readFileSync(path.join(dir, '.next/BUILD_ID'), 'utf8').trim() : null;

export async function snapshotWebBuild(): Promise<WebSnapshot> {
  const root = path.resolve(repoRoot, env().EDDY_DATA_DIR, 'tmp', `chaos-web-${process.pid}`);
  for (let attempt = 0; attempt < 60; attempt++) {
    const before = buildIdOf(repoRoot);
    if (!before) {
      await sleep(5000); // a build is in progress
      continue;
    }
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    for (const entry of readdirSync(repoRoot)) {
      // Not .eddy (the snapshot lives inside it: a link would make a loop) nor what the web process never reads.
      if (['.next', '.git', '.eddy', 'tests', 'bench', 'docs'].includes(entry)) continue;
      symlinkSync(path.join(repoRoot, entry), path.join(root, entry));
    }
    try {
      cpSync(path.join(repoRoot, '.next'), path.join(root, '.next'), {
        recursive: true,
        filter: (src) => !src.startsWith(path.join(repoRoot, '.next/cache')),
      });
    } catch {
      await sleep(2000);
      continue; // the build changed under us
    }
    if (buildIdOf(repoRoot) === before && buildIdOf(root) === before)
      return { root, buildId: before, remove: () => rmSync(root, { recursive: true, force: true }) };
  }
  throw new Error('no complete Next.js build in .next (run `npm run build`)');
}
