import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_NODE_VERSION } from '@/scripts/test-node';
import { outside, readManifest, repoRoot, satisfies } from './package-facts';

const pkg = readManifest();

describe('package.json engines', () => {
  it('claims no Node.js version that the installed prisma (and @prisma/client) refuses', () => {
    const ours = pkg.engines?.node;
    expect(ours).toBeDefined();
    for (const dep of ['prisma', '@prisma/client']) {
      const theirs = readManifest(path.join('node_modules', dep, 'package.json')).engines?.node;
      expect(theirs, `${dep} declares engines.node`).toBeDefined();
      expect(outside(ours!, theirs!), `engines.node "${ours}" allows these, ${dep} requires "${theirs}"`).toEqual([]);
    }
  });

  it('includes the Node.js that runs this suite (npm test switches to the oldest claimed when it does not)', () => {
    expect(
      satisfies(process.version, pkg.engines!.node!),
      `Node ${process.version} is outside engines.node; run through npm test`,
    ).toBe(true);
  });

  it('claims only maintained Node.js lines (22 LTS and 24 on), and npm test falls back to the oldest of them', () => {
    expect(satisfies('20.19.0', pkg.engines!.node!)).toBe(false); // end of life since April 2026
    expect(satisfies(TEST_NODE_VERSION, pkg.engines!.node!)).toBe(true);
    const [major, minor, patch] = TEST_NODE_VERSION.split('.').map(Number) as [number, number, number];
    // The oldest: the versions just below it (previous minor, previous major, previous patch) are outside.
    const olders = [
      `${major}.${minor - 1}.99`,
      `${major - 1}.99.99`,
      ...(patch > 0 ? [`${major}.${minor}.${patch - 1}`] : []),
    ];
    for (const older of olders) {
      expect(satisfies(older, pkg.engines!.node!), older).toBe(false);
    }
  });

  it('requires npm 11 (allowScripts) and names the package manager', () => {
    expect(outside(pkg.engines?.npm ?? '*', '>=11')).toEqual([]);
    expect(pkg.packageManager).toMatch(/^npm@(\d+)\./);
    expect(satisfies(pkg.packageManager!.slice('npm@'.length), pkg.engines!.npm!)).toBe(true);
  });

  it('keeps the Prisma packages on one version', () => {
    const deps = {
      ...pkg.dependencies,
      ...(readManifest() as { devDependencies?: Record<string, string> }).devDependencies,
    };
    const versions = new Set(['prisma', '@prisma/client', '@prisma/adapter-pg'].map((d) => deps[d]));
    expect([...versions]).toHaveLength(1);
  });

  it('reads ranges the way npm does', () => {
    expect(satisfies('20.18.3', '^20.19 || ^22.12 || >=24')).toBe(false);
    expect(satisfies('20.19.0', '^20.19 || ^22.12 || >=24')).toBe(true);
    expect(satisfies('21.7.0', '^20.19 || ^22.12 || >=24')).toBe(false);
    expect(satisfies('22.11.9', '^20.19 || ^22.12 || >=24')).toBe(false);
    expect(satisfies('24.0.0', '^20.19 || ^22.12 || >=24.0')).toBe(true);
    expect(satisfies('18.0.0', '>= 10.x')).toBe(true);
    expect(outside('>=20.9', '^20.19 || ^22.12 || >=24.0')).toContain('20.9.0');
  });
});

describe('package.json scripts', () => {
  it('point at files that exist', () => {
    const missing = Object.entries(pkg.scripts ?? {}).flatMap(([name, cmd]) =>
      [...cmd.matchAll(/(?:^|\s)(?:tsx|node)\s+(\S+\.(?:ts|mjs|js))/g)]
        .map((m) => m[1]!)
        .filter((f) => !existsSync(path.join(repoRoot, f)))
        .map((f) => `${name}: ${f}`),
    );
    expect(missing).toEqual([]);
  });
});
