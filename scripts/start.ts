import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createDemoAccount, DEMO_EMAIL } from '@/lib/accounts/create-demo-account';
import { createBus, ensureTopics } from '@/lib/bus';
import { closeDb } from '@/lib/db/client';
import { migrate } from '@/lib/db/migrate';
import { childEnv, env, publicUrl, setEnv } from '@/lib/env';
import { isEddyError } from '@/lib/errors';
import { buildIfNeeded } from './build-if-needed';
import { startEmbeddedPostgres, type PostgresHandle } from './services/postgres';
import { dataPath } from './services/util';
import { supervise } from './supervise';

// `npm start`: everything Eddy needs, in one command. Zero-config by default (embedded
// PostgreSQL + the embedded event log); set DATABASE_URL and/or KAFKA_BROKERS to use real ones.

async function main(): Promise<void> {
  const e = env();
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
  console.log(`[start] database ready (${applied.applied.length} migration(s) applied, ${applied.alreadyApplied.length} already)`);

  const b = createBus();
  await ensureTopics(b);
  await b.close();

  const loginFile = dataPath(dir, 'demo-login.json');
  if (env().EDDY_DEMO) {
    const demo = await createDemoAccount();
    if (demo) writeFileSync(loginFile, JSON.stringify({ email: demo.email, password: demo.password }), { mode: 0o600 });
  }
  await closeDb();

  buildIfNeeded();

  const children = childEnv({
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    DATABASE_URL: url,
    AUTH_SECRET: env().AUTH_SECRET,
    // next-auth reads these two itself.
    NEXTAUTH_URL: publicUrl(),
    NEXTAUTH_SECRET: env().AUTH_SECRET,
  });
  const web = supervise('web', ['server/index.ts'], children, dataPath(dir, 'logs', 'web.log'));
  const workers = supervise('worker', ['workers/cli.ts', 'rollups', 'sessions', 'peaks', 'reconcile'], children, dataPath(dir, 'logs', 'worker.log'));
  // The alerts job watches the others (freshness SLA, "tracking stopped"): in its own process, so
  // a frozen or crashed stream worker cannot silence the alert about itself.
  const alerts = supervise('alerts', ['workers/cli.ts', 'alerts'], children, dataPath(dir, 'logs', 'alerts.log'));

  const login = existsSync(loginFile) ? (JSON.parse(readFileSync(loginFile, 'utf8')) as { email: string; password: string }) : null;
  console.log('');
  console.log(`  Eddy is starting at ${publicUrl()}  (bus: ${env().KAFKA_BROKERS ? 'Kafka ' + env().KAFKA_BROKERS!.join(',') : 'embedded'}, database: ${pg ? 'embedded PostgreSQL' : 'DATABASE_URL'})`);
  if (login) {
    console.log(`  Demo login:  ${login.email}  /  ${login.password}`);
    console.log(`  Demo page:   ${publicUrl()}/demo  (each load is a pageview for "Demo site")`);
  } else if (env().EDDY_DEMO) {
    console.log(`  Demo login: ${DEMO_EMAIL} (its password was printed on the first start)`);
  }
  console.log('');

  const shutdown = async () => {
    await Promise.all([web.stop(), workers.stop(), alerts.stop()]);
    await pg?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((err: unknown) => {
  console.error(isEddyError(err) ? err.message : err);
  process.exit(1);
});
