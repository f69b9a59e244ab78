import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { hashPassword } from '@/lib/auth/password';
import { KafkaBus } from '@/lib/bus/kafka';
import { childEnv } from '@/lib/env';
import { createPipelineTopics } from './e2e-pipeline';
import { freePort, spawnNode, type Child } from './processes';
import { freshBenchDatabase, type BenchDatabase } from './services';
import { SITE_HOST } from './traffic';

// A whole Eddy for the e2e-latency benchmark, as `npm start` runs it against Kafka: the web
// process (server/index.ts: Next.js production build + Socket.IO + live relay) and a worker
// process (workers/cli.ts all), on a fresh database and bus namespace, with one user who owns
// one site whose pages are on SITE_HOST. The web process trusts X-Forwarded-For so the load can
// play many visitors (their events then spread over the partitions as real traffic does).

export interface E2eStack {
  url: string;
  db: BenchDatabase;
  namespace: string;
  brokers: string[];
  partitions: number;
  user: { email: string; password: string };
  site: { id: string; key: string };
  web: Child;
  worker?: Child;
  /** The environment given to the stack's processes (for more workers on the same stack). */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startE2eStack(opts: {
  adminUrl: string;
  brokers: string[];
  partitions: number;
  logDir: string;
  label: string;
  worker: string[] | false;
}): Promise<E2eStack> {
  const db = await freshBenchDatabase(opts.adminUrl, opts.label.replace(/\W/g, '_'));
  const user = { email: `owner-${randomUUID().slice(0, 8)}@example.test`, password: 'correct horse battery staple' };
  const site = { id: '', key: `s_e2e${randomBytes(8).toString('hex')}` };
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const u = await c.query<{ id: string }>(
      'INSERT INTO users (id, email, password_hash) VALUES (gen_random_uuid(), $1, $2) RETURNING id',
      [user.email, await hashPassword(user.password)],
    );
    const t = await c.query<{ id: string }>(
      "INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'Bench team') RETURNING id",
    );
    await c.query("INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, 'owner')", [
      t.rows[0]!.id,
      u.rows[0]!.id,
    ]);
    // Never rate-limited: every event of the benchmark must be accepted.
    const s = await c.query<{ id: string }>(
      `INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames, rate_limit_per_minute)
       VALUES (gen_random_uuid(), $1, 'Bench shop', $2, $3, ARRAY[$2], 100000000) RETURNING id`,
      [t.rows[0]!.id, SITE_HOST, site.key],
    );
    site.id = s.rows[0]!.id;
  } finally {
    await c.end();
  }
  const namespace = `e2e${randomBytes(4).toString('hex')}.`;
  const bus = new KafkaBus(opts.brokers);
  try {
    await createPipelineTopics(bus, namespace, opts.partitions);
  } finally {
    await bus.close();
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const secret = randomBytes(32).toString('base64url');
  const env = childEnv({
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    DATABASE_URL: db.url,
    KAFKA_BROKERS: opts.brokers.join(','),
    BUS_NAMESPACE: namespace,
    EVENTS_PARTITIONS: String(opts.partitions),
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: url,
    AUTH_SECRET: secret,
    NEXTAUTH_URL: url,
    NEXTAUTH_SECRET: secret,
    TRUSTED_PROXY_HEADER: 'x-forwarded-for',
    TRUSTED_COUNTRY_HEADER: undefined,
    GEOIP_DATABASE: undefined,
    EDDY_TEST_CRASH_POINT: undefined,
  });
  const web = spawnNode('web', ['--import', 'tsx', 'server/index.ts'], {
    env,
    logFile: path.join(opts.logDir, `${opts.label}-web.log`),
  });
  const worker = opts.worker
    ? spawnNode('worker', ['--import', 'tsx', 'workers/cli.ts', ...opts.worker], {
        env,
        logFile: path.join(opts.logDir, `${opts.label}-worker.log`),
      })
    : undefined;
  const stop = async () => {
    await Promise.all([web.stop(), worker?.stop()]);
    await db.drop();
  };
  try {
    await web.waitForLine(/listening on/, 90_000);
    if (worker) await worker.waitForLine(/job \w+ running/, 60_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, db, namespace, brokers: opts.brokers, partitions: opts.partitions, user, site, web, worker, env, stop };
}
