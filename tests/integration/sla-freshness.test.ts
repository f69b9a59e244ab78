import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';

// The freshness SLA measures the truth, with nobody watching: real web, worker and alerts
// processes on real Kafka and PostgreSQL, a steady pageview stream through the collect endpoint,
// and the worker that runs the stream jobs frozen with SIGSTOP for twice the target.
// - commit freshness is measured from real timestamps (it read 0 ms for every sample);
// - the breach is opened within target + a few seconds of the pause, caused by a stopped worker;
// - its worst value is the pause, not a bucket size; it closes once the worker is back.

const TARGET_MS = 5000;
const PAUSE_MS = 2 * TARGET_MS;
let stack: Stack;
let pool: pg.Pool;
let streaming = true;
let stream: Promise<void>;

beforeAll(async () => {
  // The alerts job runs in its own process, as in production, so freezing the stream jobs cannot silence it.
  stack = await startStack({
    bus: 'kafka',
    label: 'sla',
    workers: [['rollups', 'sessions'], ['alerts']],
    env: { ALERTS_INTERVAL_MS: '500' },
  });
  pool = new pg.Pool({ connectionString: stack.db.url });
  pool.on('error', () => undefined);
  await pool.query('INSERT INTO site_slas (site_id, target_ms) VALUES ($1, $2)', [stack.site.id, TARGET_MS]);
  stream = (async () => {
    for (let i = 0; streaming; i++) {
      await fetch(`${stack.url}/api/collect`, {
        method: 'POST',
        body: JSON.stringify({ s: stack.site.key, i: randomUUID(), u: `http://127.0.0.1/p${i % 5}` }),
        headers: {
          'content-type': 'text/plain',
          'user-agent':
            'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
          'x-test-visitor': String(i % 4),
        },
      }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
}, 120_000);
afterAll(async () => {
  streaming = false;
  await stream;
  if (stack?.workers[0]?.exitCode === null) stack.workers[0].kill('SIGCONT');
  await pool?.end();
  await stack?.stop();
});

const openBreach = async () =>
  (
    await pool.query<{ started_at: Date; cause: string; worst_ms: number }>(
      'SELECT started_at, cause, worst_ms FROM sla_breaches WHERE site_id = $1 AND ended_at IS NULL',
      [stack.site.id],
    )
  ).rows[0];

describe('freshness SLA', () => {
  it(
    'measures commit freshness from real timestamps and opens a breach within target + a few seconds of a frozen worker, with no dashboard open',
    { timeout: 120_000 },
    async () => {
      // Healthy: events become visible within the target, and the delays are real, not 0 by construction.
      await eventually(
        async () =>
          (
            await pool.query("SELECT 1 FROM freshness_samples WHERE site_id = $1 AND source = 'commit'", [
              stack.site.id,
            ])
          ).rowCount! >= 5,
        30_000,
        'commit samples',
      );
      const healthy = await pool.query<{ delay_ms: number }>(
        "SELECT delay_ms FROM freshness_samples WHERE site_id = $1 AND source = 'commit'",
        [stack.site.id],
      );
      expect(healthy.rows.some((r) => r.delay_ms > 0)).toBe(true);
      expect(Math.max(...healthy.rows.map((r) => r.delay_ms))).toBeLessThan(TARGET_MS);
      const before = await pool.query<{ freshness_ms: number | null; measured_at: Date }>(
        'SELECT freshness_ms, measured_at FROM site_freshness WHERE site_id = $1',
        [stack.site.id],
      );
      expect(before.rows[0]!.freshness_ms).toBeLessThan(TARGET_MS);
      expect(await openBreach()).toBeUndefined();

      // Freeze the stream jobs' process for twice the target; the collect endpoint keeps acknowledging.
      const pausedAt = Date.now();
      stack.workers[0]!.kill('SIGSTOP');
      let detectedAt = 0;
      try {
        await eventually(async () => Boolean(await openBreach()), TARGET_MS + 8000, 'breach opened');
        detectedAt = Date.now();
        const during = await pool.query<{ freshness_ms: number; cause: string }>(
          'SELECT freshness_ms, cause FROM site_freshness WHERE site_id = $1',
          [stack.site.id],
        );
        expect(during.rows[0]!.freshness_ms).toBeGreaterThan(TARGET_MS);
        expect(during.rows[0]!.cause).toBe('stopped worker');
        await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + PAUSE_MS - Date.now())));
      } finally {
        stack.workers[0]!.kill('SIGCONT');
      }
      expect(detectedAt - pausedAt).toBeLessThanOrEqual(TARGET_MS + 4000);

      // Back: the breach closes, and its worst value is the pause (not a bucket size).
      await eventually(async () => !(await openBreach()), 40_000, 'breach closed');
      const b = await pool.query<{ worst_ms: number; cause: string; started_at: Date; ended_at: Date }>(
        'SELECT worst_ms, cause, started_at, ended_at FROM sla_breaches WHERE site_id = $1',
        [stack.site.id],
      );
      expect(b.rows).toHaveLength(1);
      expect(b.rows[0]!.cause).toBe('stopped worker');
      expect(b.rows[0]!.worst_ms).toBeGreaterThan(PAUSE_MS - 2000);
      expect(b.rows[0]!.worst_ms).toBeLessThan(PAUSE_MS + 6000);
      // The events that waited were committed late, and the commit samples say so.
      const late = await pool.query<{ n: number }>(
        "SELECT max(delay_ms)::int AS n FROM freshness_samples WHERE site_id = $1 AND source = 'commit' AND at > $2",
        [stack.site.id, new Date(pausedAt)],
      );
      expect(late.rows[0]!.n).toBeGreaterThan(PAUSE_MS - 3000);
      // The minute rows hold the real worst values too.
      const minutes = await pool.query<{ worst: number }>(
        'SELECT max(freshness_ms)::int AS worst FROM sla_minutes WHERE site_id = $1',
        [stack.site.id],
      );
      expect(minutes.rows[0]!.worst).toBeLessThan(PAUSE_MS + 6000);
    },
  );
});
