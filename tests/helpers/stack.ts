import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { hashPassword } from '@/lib/auth/password';
import { newSiteKey } from '@/lib/sites/site-key';
import { EmbeddedBus } from '@/lib/bus/embedded';
import { KafkaBus } from '@/lib/bus/kafka';
import { childEnv } from '@/lib/env';
import { freshDatabase, type TestDatabase } from './db';
import { kafkaBrokers } from './kafka';
import { eventually } from './wait';

// A whole Eddy (web process + worker process) on its own database and bus namespace, as
// `npm start` would run it, for end-to-end tests. Uses the build that scripts/test.ts made.

const root = path.resolve(import.meta.dirname, '../..');
export const artifactsDir = path.join(root, 'tests/artifacts');

export interface Stack {
  url: string;
  port: number;
  db: TestDatabase;
  namespace: string;
  user: { email: string; password: string; id: string };
  site: { id: string; key: string };
  web: ChildProcess;
  worker?: ChildProcess;
  /** Every worker process, in the order of `workers` (the one `worker` is the first). */
  workers: ChildProcess[];
  /** Stops the web process (SIGTERM, SIGKILL after 5 s): Eddy unreachable, workers untouched. */
  stopWeb(): Promise<void>;
  /** Starts a new web process on the same port (after stopWeb) and waits until it listens. */
  startWeb(): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface StackOptions {
  bus: 'kafka' | 'embedded';
  /** Override the brokers (e.g. a broker the test stops and starts). */
  brokers?: string;
  worker?: boolean;
  /** Worker processes and the jobs each runs (default: one process with `all`), e.g. [['rollups', 'sessions'], ['alerts']]. */
  workers?: string[][];
  label?: string;
  env?: Record<string, string>;
  /**
   * Restart a worker process that exits by itself, as `npm start`'s supervisor does (a worker exits
   * on purpose when its consumer crashes, e.g. when the broker stays away past kafkajs' retries).
   * For tests that take the broker down; off by default so a test that kills a worker sees it stay dead.
   */
  superviseWorkers?: boolean;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const label = opts.label ?? 'stack';
  const db = await freshDatabase(label);
  const port = await freePort();
  const namespace = `t${randomBytes(4).toString('hex')}.`;
  const secret = randomBytes(32).toString('base64url');
  const user = {
    email: `owner-${randomUUID().slice(0, 8)}@example.test`,
    password: 'correct horse battery staple',
    id: '',
  };
  const site = { id: '', key: newSiteKey() };
  {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    // The install's first account, hence its operator (lib/accounts/create-user.ts).
    const u = await c.query<{ id: string }>(
      'INSERT INTO users (id, email, password_hash, is_operator) VALUES (gen_random_uuid(), $1, $2, true) RETURNING id',
      [user.email, await hashPassword(user.password)],
    );
    user.id = u.rows[0]!.id;
    const t = await c.query<{ id: string }>(
      "INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'Test team') RETURNING id",
    );
    await c.query("INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, 'owner')", [
      t.rows[0]!.id,
      user.id,
    ]);
    const s = await c.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames) VALUES (gen_random_uuid(), $1, 'Test shop', 'shop.test', $2, ARRAY['127.0.0.1','localhost']) RETURNING id",
      [t.rows[0]!.id, site.key],
    );
    site.id = s.rows[0]!.id;
    await c.end();
  }
  const brokers = opts.bus === 'kafka' ? (opts.brokers ?? kafkaBrokers().join(',')) : undefined;
  const env = childEnv({
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    DATABASE_URL: db.url,
    KAFKA_BROKERS: brokers,
    BUS_NAMESPACE: namespace,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    AUTH_SECRET: secret,
    NEXTAUTH_URL: `http://127.0.0.1:${port}`,
    NEXTAUTH_SECRET: secret,
    EVENTS_PARTITIONS: '3',
    ...opts.env,
  });
  // Topics first, as the launcher does.
  if (brokers) {
    const b = new KafkaBus(brokers.split(','));
    try {
      await b.createTopics([
        { name: `${namespace}events`, partitions: 3 },
        { name: `${namespace}live`, partitions: 1 },
      ]);
    } catch {
      // The broker may be down on purpose (bus-outage tests).
    }
    await b.close();
  } else {
    const p = new pg.Pool({ connectionString: db.url });
    const b = new EmbeddedBus(p, db.url);
    await b.createTopics([
      { name: `${namespace}events`, partitions: 3 },
      { name: `${namespace}live`, partitions: 1 },
    ]);
    await p.end();
  }

  mkdirSync(artifactsDir, { recursive: true });
  const spawnLogged = (name: string, args: string[], append = false) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(path.join(artifactsDir, `${label}-${name}.log`), { flags: append ? 'a' : 'w' });
    const lines: string[] = [];
    const onData = (d: Buffer) => {
      log.write(d);
      lines.push(...d.toString().split('\n'));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    return { child, lines };
  };
  let web = spawnLogged('web', ['server/index.ts']);
  const jobLists = opts.worker === false ? [] : (opts.workers ?? [['all']]);
  let stopping = false;
  const workers = jobLists.map((jobs, i) => {
    const name = i === 0 ? 'worker' : `worker${i + 1}`;
    const args = ['workers/cli.ts', ...jobs];
    const entry = spawnLogged(name, args);
    const watch = () =>
      entry.child.once('exit', () => {
        if (stopping) return;
        setTimeout(() => {
          if (stopping) return;
          Object.assign(entry, spawnLogged(name, args, true));
          watch();
        }, 500);
      });
    if (opts.superviseWorkers) watch();
    return entry;
  });
  const worker = workers[0];
  const webListening = async () => {
    await eventually(
      () => web.lines.some((l) => l.includes('listening on')) || web.child.exitCode !== null,
      60_000,
      'web process listening',
    );
    if (web.child.exitCode !== null) throw new Error(`web process exited: ${web.lines.join('\n')}`);
  };
  await webListening();
  for (const w of workers) {
    await eventually(
      () => w.lines.some((l) => l.includes('running')) || w.child.exitCode !== null,
      60_000,
      'worker running',
    );
    if (w.child.exitCode !== null) throw new Error(`worker exited: ${w.lines.join('\n')}`);
  }
  const kill = (c?: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (!c || c.exitCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 5000);
    });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    db,
    namespace,
    user,
    site,
    get web() {
      return web.child;
    },
    worker: worker?.child,
    workers: workers.map((w) => w.child),
    stopWeb: () => kill(web.child),
    startWeb: async () => {
      web = spawnLogged('web', ['server/index.ts']);
      await webListening();
    },
    stop: async () => {
      stopping = true;
      await Promise.all([kill(web.child), ...workers.map((w) => kill(w.child))]);
      await db.drop();
    },
  };
}
