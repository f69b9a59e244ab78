import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createDemoAccount, DEMO_EMAIL } from '@/lib/accounts/create-demo-account';
import { ensureDemoApiKey } from '@/lib/api-keys/keys';
import { createBus, ensureTopics } from '@/lib/bus';
import { closeDb, db } from '@/lib/db/client';
import { migrate } from '@/lib/db/migrate';
import { childEnv, env, publicUrl, setEnv } from '@/lib/env';
import { isEddyError } from '@/lib/errors';
import { spawnSync } from 'node:child_process';
import { buildIfNeeded } from './build-if-needed';
import { startEmbeddedPostgres, type PostgresHandle } from './services/postgres';
import { dataPath, repoRoot } from './services/util';
import { satisfies } from './semver-range';
import { supervise } from './supervise';
import { enginesNode } from './test-node';

// `npm start`: everything Eddy needs, in one command. Zero-config by default (embedded
// PostgreSQL + the embedded event log); set DATABASE_URL and/or KAFKA_BROKERS to use real ones.
// `npm run dev` (--dev): the same processes, but the web process runs Next.js' dev server
// (NODE_ENV=development, server/index.ts): no production build, pages hot-reload as you edit.

const devMode = process.argv.includes('--dev');

async function main(): Promise<void> {
  const e = env();
  if (!satisfies(process.version, enginesNode())) {
    console.warn(
      `[start] Node.js ${process.version} is outside engines.node (${enginesNode()}): not supported; use Node.js 22.12+ or 24+`,
    );
  }
  const dir = e.EDDY_DATA_DIR;

  const secretFile = dataPath(dir, 'auth-secret');
  if (!e.AUTH_SECRET) {
    if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('base64url'), { mode: 0o600 });
    setEnv({ AUTH_SECRET: readFileSync(secretFile, 'utf8').trim() });
  }

  let pg: PostgresHandle | undefined;
  if (!e.DATABASE_URL) {
    console.log(`[start] starting embedded PostgreSQL (data in ${dir}/pg)…`);
    pg = await startEmbeddedPostgres(dir, e.EMBEDDED_PG_PORT);
    setEnv({ DATABASE_URL: pg.url });
  }
  const url = env().DATABASE_URL!;
  const applied = await migrate(url);
  console.log(
    `[start] database ready (${applied.applied.length} migration(s) applied, ${applied.alreadyApplied.length} already)`,
  );

  const b = createBus();
  await ensureTopics(b);
  await b.close();

  const loginFile = dataPath(dir, 'demo-login.json');
  if (env().EDDY_DEMO) {
    const demo = await createDemoAccount();
    if (demo) writeFileSync(loginFile, JSON.stringify({ email: demo.email, password: demo.password }), { mode: 0o600 });
    // The demo Express server's events:write key (scripts/demo-server.ts reads it from this file).
    const demoSite = await db().site.findFirst({
      where: { team: { memberships: { some: { user: { email: DEMO_EMAIL } } } } },
      orderBy: { createdAt: 'asc' },
    });
    const keyFile = dataPath(dir, 'demo-api-key');
    if (demoSite)
      await ensureDemoApiKey(
        demoSite.id,
        () => (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : null),
        (key) => writeFileSync(keyFile, key, { mode: 0o600 }),
      );
  }
  await closeDb();

  if (devMode) {
    // Next.js compiles pages on request; only the tracker (public/t.js, for the demo page) is built.
    const tracker = spawnSync('npm', ['run', '--silent', 'build:tracker'], { cwd: repoRoot, stdio: 'inherit' });
    if (tracker.status !== 0) throw new Error(`Tracker build failed (exit ${tracker.status})`);
  } else buildIfNeeded();

  const children = childEnv({
    NODE_ENV: devMode ? 'development' : 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    DATABASE_URL: url,
    AUTH_SECRET: env().AUTH_SECRET,
    // next-auth reads these two itself.
    NEXTAUTH_URL: publicUrl(),
    NEXTAUTH_SECRET: env().AUTH_SECRET,
  });
  const web = supervise('web', ['server/index.ts'], children, dataPath(dir, 'logs', 'web.log'));
  const workers = supervise(
    'worker',
    [
      'workers/cli.ts',
      'rollups',
      'sessions',
      'insights',
      'funnels',
      'peaks',
      'reconcile',
      'retention',
      'exports',
      'imports',
    ],
    children,
    dataPath(dir, 'logs', 'worker.log'),
  );
  // The alerts job watches the others (freshness SLA, "tracking stopped"): in its own process, so
  // a frozen or crashed stream worker cannot silence the alert about itself.
  const alerts = supervise('alerts', ['workers/cli.ts', 'alerts'], children, dataPath(dir, 'logs', 'alerts.log'));
  // The seed's interceptor in the loop: a customer's Express server with @eddy/node (demo only).
  // Express is a devDependency (the SDK has no runtime dependencies): an install without dev
  // dependencies runs Eddy without the demo server rather than restarting it forever.
  const demoServer =
    env().EDDY_DEMO && existsSync(dataPath(dir, 'demo-api-key')) && resolvable('express')
      ? supervise('demo-server', ['scripts/demo-server.ts'], children, dataPath(dir, 'logs', 'demo-server.log'))
      : null;

  const login = existsSync(loginFile)
    ? (JSON.parse(readFileSync(loginFile, 'utf8')) as { email: string; password: string })
    : null;
  console.log('');
  if (devMode)
    console.log(
      '  Development mode: pages compile on first request and reload as you edit (server/ and workers/ need a restart).',
    );
  console.log(
    `  Eddy is starting at ${publicUrl()}  (bus: ${env().KAFKA_BROKERS ? 'Kafka ' + env().KAFKA_BROKERS!.join(',') : 'embedded'}, database: ${pg ? 'embedded PostgreSQL' : 'DATABASE_URL'})`,
  );
  if (login) {
    console.log(`  Demo login:  ${login.email}  /  ${login.password}`);
    console.log(`  Demo page:   ${publicUrl()}/demo  (each load is a pageview for "Demo site")`);
  } else if (env().EDDY_DEMO) {
    console.log(`  Demo login: ${DEMO_EMAIL} (its password was printed on the first start)`);
  }
  if (demoServer) {
    console.log(
      `  Demo server: http://localhost:${env().DEMO_SERVER_PORT}  (an Express shop with @eddy/node: its requests are server events of "Demo site")`,
    );
  }
  console.log('');

  const shutdown = async () => {
    await Promise.all([web.stop(), workers.stop(), alerts.stop(), demoServer?.stop()]);
    await pg?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

function resolvable(pkg: string): boolean {
  try {
    import.meta.resolve(pkg);
    return true;
  } catch {
    console.log(`[start] ${pkg} is not installed (dev dependencies omitted): the demo server does not start`);
    return false;
  }
}

main().catch((err: unknown) => {
  console.error(isEddyError(err) ? err.message : err);
  process.exit(1);
});
