import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

// What the checks in tests/repo read: package.json, the lockfile, and installed packages' manifests.

export const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface Manifest {
  name?: string;
  version?: string;
  license?: unknown;
  licenses?: unknown;
  engines?: Record<string, string>;
  packageManager?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(path.resolve(repoRoot, file), 'utf8')) as T;
}

export const readManifest = (file = 'package.json'): Manifest => readJson<Manifest>(file);

export interface LockEntry {
  version?: string;
  license?: unknown;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
}

/**
 * Every package of the production tree, all platforms (optional platform packages included: the
 * lockfile lists those no one installed here). Keyed by the lockfile's install path.
 */
export function productionPackages(
  lock = readJson<{ packages: Record<string, LockEntry> }>('package-lock.json'),
): { lockPath: string; name: string; entry: LockEntry }[] {
  return Object.entries(lock.packages)
    .filter(([p, e]) => p !== '' && !e.dev && !e.devOptional)
    .map(([lockPath, entry]) => ({
      lockPath,
      name: lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length),
      entry,
    }));
}

/** The installed manifest when the package is installed here, otherwise undefined. */
export function installedManifest(lockPath: string): Manifest | undefined {
  const file = path.join(repoRoot, lockPath, 'package.json');
  return existsSync(file) ? readManifest(file) : undefined;
}

// Version ranges (the subset of node-semver that `engines` fields use) live in scripts/, where
// npm test also reads engines.node.
import { satisfies } from '../../scripts/semver-range';

export { satisfies };

/** Versions to probe a range with: every major.minor (patch 0 and 99) of majors 0–40. */
export function probeVersions(): string[] {
  const out: string[] = [];
  for (let major = 0; major <= 40; major++)
    for (let minor = 0; minor <= 40; minor++) out.push(`${major}.${minor}.0`, `${major}.${minor}.99`);
  return out;
}

/** Versions `ours` allows that `theirs` does not (empty when ours is within theirs). */
export function outside(ours: string, theirs: string): string[] {
  return probeVersions().filter((v) => satisfies(v, ours) && !satisfies(v, theirs));
}
