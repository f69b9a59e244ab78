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
export function productionPackages(lock = readJson<{ packages: Record<string, LockEntry> }>('package-lock.json')): { lockPath: string; name: string; entry: LockEntry }[] {
  return Object.entries(lock.packages)
    .filter(([p, e]) => p !== '' && !e.dev && !e.devOptional)
    .map(([lockPath, entry]) => ({ lockPath, name: lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length), entry }));
}

/** The installed manifest when the package is installed here, otherwise undefined. */
export function installedManifest(lockPath: string): Manifest | undefined {
  const file = path.join(repoRoot, lockPath, 'package.json');
  return existsSync(file) ? readManifest(file) : undefined;
}

// ---- version ranges: the subset of node-semver that `engines` fields use -------------------

type Version = [number, number, number];
type Comparator = { op: '>=' | '>' | '<' | '<=' | '='; v: Version };

function cmp(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** One comparator, e.g. `^20.19`, `>=24.0`, `>= 10.x`, `20`; partial versions as node-semver reads them. */
function comparators(term: string): Comparator[] {
  const m = /^(\^|~|>=|<=|>|<|=)?\s*v?(\d+|x|\*)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(term.trim());
  if (!m) throw new Error(`version range term not understood: ${JSON.stringify(term)}`);
  const op = m[1] ?? '';
  const parts = [m[2], m[3], m[4]].map((p) => (p === undefined || p === 'x' || p === '*' ? undefined : Number(p)));
  const [maj, min, pat] = parts;
  if (maj === undefined) return [];
  const lo: Version = [maj, min ?? 0, pat ?? 0];
  const next = (): Version => (min === undefined ? [maj + 1, 0, 0] : pat === undefined ? [maj, min + 1, 0] : [maj, min, pat + 1]);
  switch (op) {
    case '^':
      return [{ op: '>=', v: lo }, { op: '<', v: maj > 0 ? [maj + 1, 0, 0] : min !== undefined && min > 0 ? [0, min + 1, 0] : next() }];
    case '~':
      return [{ op: '>=', v: lo }, { op: '<', v: min === undefined ? [maj + 1, 0, 0] : [maj, min + 1, 0] }];
    case '>=':
      return [{ op: '>=', v: lo }];
    case '>':
      return [{ op: '>=', v: next() }];
    case '<':
      return [{ op: '<', v: lo }];
    case '<=':
      return [{ op: '<', v: next() }];
    default:
      return pat === undefined ? [{ op: '>=', v: lo }, { op: '<', v: next() }] : [{ op: '=', v: lo }];
  }
}

/** Whether version `v` (x.y.z) is in `range` (`a || b`, each a space-separated conjunction). */
export function satisfies(v: string, range: string): boolean {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v);
  if (!m) throw new Error(`not a version: ${v}`);
  const ver: Version = [Number(m[1]), Number(m[2]), Number(m[3])];
  return range.split('||').some((alt) => {
    const terms = alt.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter((t) => t !== '');
    return terms.flatMap(comparators).every(({ op, v: c }) => {
      const d = cmp(ver, c);
      return op === '>=' ? d >= 0 : op === '<' ? d < 0 : d === 0;
    });
  });
}

/** Versions to probe a range with: every major.minor (patch 0 and 99) of majors 0–40. */
export function probeVersions(): string[] {
  const out: string[] = [];
  for (let major = 0; major <= 40; major++) for (let minor = 0; minor <= 40; minor++) out.push(`${major}.${minor}.0`, `${major}.${minor}.99`);
  return out;
}

/** Versions `ours` allows that `theirs` does not (empty when ours is within theirs). */
export function outside(ours: string, theirs: string): string[] {
  return probeVersions().filter((v) => satisfies(v, ours) && !satisfies(v, theirs));
}
