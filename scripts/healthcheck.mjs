// Container health (Dockerfile HEALTHCHECK, docker-compose.yml): `node scripts/healthcheck.mjs web`
// or `… worker`; exit 0 healthy, 1 not. Plain JavaScript, no tsx: it runs every few seconds.
//   web    — the server answers a page (not 5xx) on PORT within 3 s.
//   worker — this container's worker wrote its heartbeat row (workers/presence.ts) in the last
//            15 s (three heartbeats), i.e. its jobs are running and it reaches PostgreSQL.
import os from 'node:os';

const what = process.argv[2];

async function web() {
  const res = await fetch(`http://127.0.0.1:${process.env.PORT || 3000}/login`, {
    redirect: 'manual',
    signal: AbortSignal.timeout(3000),
  });
  return res.status < 500;
}

async function worker() {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const r = await client.query(
      "SELECT 1 FROM worker_heartbeats WHERE host = $1 AND seen_at > now() - interval '15 seconds'",
      [os.hostname()],
    );
    return r.rowCount > 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const checks = { web, worker };
if (!(what in checks)) {
  console.error('usage: node scripts/healthcheck.mjs web|worker');
  process.exit(2);
}
checks[what]()
  .then((ok) => process.exit(ok ? 0 : 1))
  .catch((e) => {
    console.error(`unhealthy: ${e.message}`);
    process.exit(1);
  });
