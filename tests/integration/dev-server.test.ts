import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '@/lib/env';
import { freePort, repoRoot } from '@/scripts/services/util';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { eventually } from '../helpers/wait';

// `npm run dev`: the launcher with the web process on Next.js' dev server. A page is served
// (compiled on its first request, no production build involved) and the hot-reload WebSocket
// (/_next/hmr) answers its upgrade, which the production server leaves unanswered.

let db: TestDatabase;
let dataDir: string;
let port: number;
let dev: ChildProcess;
const output: string[] = [];

beforeAll(async () => {
  db = await freshDatabase('dev-server');
  port = await freePort();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'eddy-dev-'));
  const artifacts = path.join(repoRoot, 'tests/artifacts');
  mkdirSync(artifacts, { recursive: true });
  const log = createWriteStream(path.join(artifacts, 'dev-server.log'));
  // Its own process group, so the launcher, web, workers and Next.js' helpers stop together.
  dev = spawn('npm', ['run', '--silent', 'dev'], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The embedded bus (KAFKA_BROKERS empty = unset): no topics of this run's Kafka are touched.
    env: childEnv({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: '',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: undefined,
      EDDY_DATA_DIR: dataDir,
      EDDY_DEMO: 'false',
      NODE_ENV: undefined,
    }),
  });
  for (const stream of [dev.stdout!, dev.stderr!]) {
    stream.on('data', (d: Buffer) => {
      log.write(d);
      output.push(d.toString());
    });
  }
}, 30_000);

afterAll(async () => {
  if (dev?.pid !== undefined && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev.once('exit', resolve));
    process.kill(-dev.pid, 'SIGTERM');
    const timer = setTimeout(() => dev.pid !== undefined && process.kill(-dev.pid, 'SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  await db?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

/** Status line of a WebSocket upgrade request to `pathname` (101 = accepted). */
function upgradeStatus(pathname: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        [
          `GET ${pathname} HTTP/1.1`,
          `Host: 127.0.0.1:${port}`,
          'Connection: Upgrade',
          'Upgrade: websocket',
          'Sec-WebSocket-Version: 13',
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          '',
          '',
        ].join('\r\n'),
      );
    });
    socket.once('data', (d) => {
      resolve(d.toString().split('\r\n')[0] ?? '');
      socket.destroy();
    });
    socket.once('error', reject);
    socket.setTimeout(20_000, () => {
      socket.destroy();
      resolve('(no answer)');
    });
  });
}

describe('npm run dev', () => {
  it('is the launcher in development mode', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.dev).toBe('tsx scripts/start.ts --dev');
  });

  it('starts Next.js in dev mode and serves a page', async () => {
    const page = await eventually(
      async () => {
        if (dev.exitCode !== null)
          throw new Error(`npm run dev exited (${dev.exitCode}): ${output.join('').slice(-2000)}`);
        const res = await fetch(`http://127.0.0.1:${port}/login`).catch(() => null);
        return res?.status === 200 ? res.text() : null;
      },
      180_000,
      'the sign-in page from npm run dev',
    );
    expect(page).toContain('<title>Sign in · Eddy</title>');
    expect(output.join('')).toContain('Development mode');
    // Fast Refresh's socket: only the dev server accepts it.
    expect(await upgradeStatus('/_next/hmr')).toBe('HTTP/1.1 101 Switching Protocols');
    // Socket.IO still gets its upgrades beside it.
    expect(await upgradeStatus('/socket.io/?EIO=4&transport=websocket')).toBe('HTTP/1.1 101 Switching Protocols');
  }, 240_000);
});
