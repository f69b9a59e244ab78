import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { KafkaBus } from '@/lib/bus/kafka';
import { childEnv, env } from '@/lib/env';
import { newSiteKey } from '@/lib/sites/site-key';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { freePort } from '../helpers/stack';
import type { ChaosBroker } from './broker';
import { ManagedProcess, type ExitInfo } from './processes';
import { repoRoot, sleep, type RunLog } from './util';

// The topology of one chaos scenario: a fresh PostgreSQL database and bus namespace on the
// suite's own broker, one web process (collect endpoint + Socket.IO + live relay) and N worker
// processes (`workers/cli.ts all`), each a real OS process. A supervisor restarts a process that
// exits without being told to, with the backoff of `npm start`'s launcher (scripts/supervise.ts:
// 1 s, 2 s, 4 s, … up to 10 s), and records the exit: a process that dies by itself under a fault
// is a finding even when nothing is lost.

export const CRASH_POINTS = ['before-tx', 'mid-tx', 'after-commit-before-offset', 'after-offset-before-live'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];
export const BROKEN_VARIANTS = [
  'commit-offset-before-tx',
  'no-offset-filter',
  'no-event-id-dedup',
  'no-poison-guards',
] as const;
export type BrokenVariant = (typeof BROKEN_VARIANTS)[number];

export const PARTITIONS = 4;
export const STREAM_JOBS = ['rollups', 'sessions'] as const;

export interface SiteSpec {
  id: string;
  key: string;
  host: string;
  team: 'a' | 'b';
}

export interface WorkerHandle {
  name: string;
  proc: ManagedProcess;
  crash?: { point: CrashPoint; after: number };
}

export interface UnexpectedExit {
  process: string;
  exit: ExitInfo;
  lastLines: string[];
}

export interface ClusterOptions {
  label: string;
  broker: ChaosBroker;
  /** Private snapshot of the web build (web-snapshot.ts). */
  webRoot: string;
  log: RunLog;
  workers: number;
  variant?: BrokenVariant;
}

export class ChaosCluster {
  readonly namespace = `chaos${randomBytes(4).toString('hex')}.`;
  readonly secret = randomBytes(32).toString('base64url');
  readonly sites: SiteSpec[] = [];
  readonly users: { a: string; b: string } = { a: '', b: '' };
  web?: ManagedProcess;
  readonly workers = new Map<string, WorkerHandle>();
  readonly unexpectedExits: UnexpectedExit[] = [];
  /** Restarts crashed processes while true; off during teardown. */
  supervising = true;
  baselineWorkers: number;
  /** Supervisor restarts scheduled but not started yet. */
  pendingRestarts = 0;
  private workerSeq = 0;
  private webStarts = 0;
  private readonly crashes = { web: 0, worker: 0 };
  /** scripts/supervise.ts's backoff. */
  private backoff(role: 'web' | 'worker'): number {
    const restarts = ++this.crashes[role];
    return Math.min(10_000, 500 * 2 ** Math.min(restarts, 5));
  }
  pool!: pg.Pool;

  private constructor(
    readonly opts: ClusterOptions,
    readonly db: TestDatabase,
    readonly port: number,
  ) {
    this.baselineWorkers = opts.workers;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get eventsTopic(): string {
    return `${this.namespace}events`;
  }

  static async create(opts: ClusterOptions): Promise<ChaosCluster> {
    const db = await freshDatabase(`chaos_${opts.label}`);
    const c = new ChaosCluster(opts, db, await freePort());
    c.pool = new pg.Pool({ connectionString: db.url, max: 6, application_name: 'chaos-checker' });
    c.pool.on('error', () => undefined); // F6 terminates our idle connections too
    await c.seed();
    // A broker that just started (or restarted) may still answer "does not host this topic-partition".
    const until = Date.now() + 60_000;
    for (;;) {
      const bus = new KafkaBus([opts.broker.brokers], 'chaos-setup');
      try {
        await bus.createTopics([
          { name: c.eventsTopic, partitions: PARTITIONS },
          { name: `${c.namespace}live`, partitions: 1 },
          { name: `${c.namespace}late`, partitions: 1 },
        ]);
        if ((await bus.topicOffsets(c.eventsTopic)).length === PARTITIONS) break;
      } catch (e) {
        if (Date.now() > until) throw e;
      } finally {
        await bus.close();
      }
      await sleep(1000);
    }
    await c.startWeb();
    await Promise.all(Array.from({ length: opts.workers }, () => c.startWorker()));
    return c;
  }

  /** Two teams (tenants): team a owns two sites, team b one; one user in each. */
  private async seed(): Promise<void> {
    const c = await this.pool.connect();
    try {
      for (const team of ['a', 'b'] as const) {
        const t = await c.query<{ id: string }>(
          'INSERT INTO teams (id, name) VALUES (gen_random_uuid(), $1) RETURNING id',
          [`Chaos team ${team}`],
        );
        const u = await c.query<{ id: string }>(
          "INSERT INTO users (id, email, password_hash) VALUES (gen_random_uuid(), $1, 'x') RETURNING id",
          [`chaos-${team}-${randomBytes(3).toString('hex')}@example.test`],
        );
        this.users[team] = u.rows[0]!.id;
        await c.query("INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, 'owner')", [
          t.rows[0]!.id,
          u.rows[0]!.id,
        ]);
        for (const n of team === 'a' ? [1, 2] : [3]) {
          const host = `shop${n}.chaos.test`;
          const key = newSiteKey();
          // A rate limit far above the generator's rate: a rate-limited event is acknowledged but dropped on purpose.
          const s = await c.query<{ id: string }>(
            'INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames, rate_limit_per_minute) VALUES (gen_random_uuid(), $1, $2, $3, $4, ARRAY[$3], 1000000) RETURNING id',
            [t.rows[0]!.id, `Shop ${n}`, host, key],
          );
          this.sites.push({ id: s.rows[0]!.id, key, host, team });
          // The first site's content groups are the ReDoS patterns of issue 13, which F10's
          // slash-heavy paths would make a backtracking matcher chew on for seconds per event.
          if (n === 1) {
            await c.query(
              "INSERT INTO content_groups (id, site_id, name, pattern, position) VALUES (gen_random_uuid(), $1, 'Nested', '/**/**/**/**/x', 0), (gen_random_uuid(), $1, 'Letters', '/*a*a*a*a*b', 1), (gen_random_uuid(), $1, 'Blog', '/blog/**', 2)",
              [s.rows[0]!.id],
            );
          }
        }
      }
    } finally {
      c.release();
    }
  }

  private baseEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
    return childEnv({
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      DATABASE_URL: this.db.url,
      KAFKA_BROKERS: this.opts.broker.brokers,
      BUS_NAMESPACE: this.namespace,
      EVENTS_PARTITIONS: String(PARTITIONS),
      AUTH_SECRET: this.secret,
      NEXTAUTH_SECRET: this.secret,
      EDDY_TEST_CRASH_POINT: undefined,
      EDDY_TEST_CRASH_AFTER: undefined,
      EDDY_TEST_BROKEN_VARIANT: undefined,
      ...extra,
    });
  }

  private logPath(name: string): string {
    return this.opts.log.file(`${this.opts.label}-${name}.log`);
  }

  async startWeb(): Promise<ManagedProcess> {
    const web = new ManagedProcess(
      `web#${++this.webStarts}`,
      [path.join(this.opts.webRoot, 'server/index.ts')],
      this.baseEnv({
        PORT: String(this.port),
        HOST: '127.0.0.1',
        PUBLIC_URL: this.url,
        NEXTAUTH_URL: this.url,
        TRUSTED_PROXY_HEADER: 'x-forwarded-for',
        // Like the sites' own limits: far above the generator's rate (a rate-limited event is acknowledged but dropped on purpose).
        COLLECT_IP_RATE_PER_MINUTE: '1000000',
        COLLECT_VISITOR_RATE_PER_MINUTE: '1000000',
        // Collect's half of the no-poison-guards control (the other variants only change workers).
        EDDY_TEST_BROKEN_VARIANT: this.opts.variant === 'no-poison-guards' ? this.opts.variant : undefined,
        PGAPPNAME: 'chaos-web',
        // The snapshot has no .eddy of its own.
        EDDY_DATA_DIR: path.resolve(repoRoot, env().EDDY_DATA_DIR),
      }),
      this.logPath('web'),
      { cwd: this.opts.webRoot, nodeArgs: ['--preserve-symlinks', '--preserve-symlinks-main'] },
    );
    this.web = web;
    void web.exited.then((exit) => this.onWebExit(web, exit));
    await web.waitForLine(/listening on/, 90_000);
    return web;
  }

  private onWebExit(web: ManagedProcess, exit: ExitInfo): void {
    if (web.expectExit || this.web !== web) return;
    this.unexpectedExits.push({ process: web.name, exit, lastLines: web.lastLines(8) });
    this.opts.log.line(
      this.opts.label,
      `web process ${web.name} exited by itself (code ${exit.code}, signal ${exit.signal}): ${web.lastLines(3).join(' | ')}`,
    );
    if (this.supervising)
      void sleep(this.backoff('web')).then(() =>
        this.supervising && this.web === web
          ? this.startWeb().catch((e: unknown) =>
              this.opts.log.line(this.opts.label, `web restart failed: ${(e as Error).message}`),
            )
          : undefined,
      );
  }

  async startWorker(crash?: { point: CrashPoint; after: number; job?: string }): Promise<WorkerHandle> {
    const name = `w${++this.workerSeq}${crash ? `-crash-${crash.point}` : ''}`;
    const proc = new ManagedProcess(
      `worker ${name}`,
      ['workers/cli.ts', 'all'],
      this.baseEnv({
        PGAPPNAME: `chaos-${name}`,
        EDDY_TEST_BROKEN_VARIANT: this.opts.variant,
        EDDY_TEST_CRASH_POINT: crash?.point,
        EDDY_TEST_CRASH_AFTER: crash ? String(crash.after) : undefined,
        EDDY_TEST_CRASH_JOB: crash?.job,
      }),
      this.logPath(`worker-${name}`),
    );
    const w: WorkerHandle = { name, proc, crash };
    this.workers.set(name, w);
    void proc.exited.then((exit) => this.onWorkerExit(w, exit));
    await proc.waitForLine(/job reconcile running/, 90_000).catch((e: unknown) => {
      // A crash-point worker may reach its crash point while its later jobs are still starting: that is the fault, not a failed start.
      if (crash && proc.sawLine(new RegExp(`dying at ${crash.point}`))) return;
      // A worker that cannot start (broker down at that moment) exits; the supervisor retries.
      this.opts.log.line(this.opts.label, `worker ${name} did not start: ${(e as Error).message}`);
    });
    return w;
  }

  private onWorkerExit(w: WorkerHandle, exit: ExitInfo): void {
    this.workers.delete(w.name);
    if (w.proc.expectExit) return;
    if (w.crash && exit.signal === 'SIGKILL') {
      this.opts.log.line(
        this.opts.label,
        `worker ${w.name} killed itself at ${w.crash.point} (batch ${w.crash.after})`,
      );
      return; // the nemesis starts its replacement
    }
    this.unexpectedExits.push({ process: `worker ${w.name}`, exit, lastLines: w.proc.lastLines(8) });
    this.opts.log.line(
      this.opts.label,
      `worker ${w.name} exited by itself (code ${exit.code}, signal ${exit.signal}): ${w.proc.lastLines(3).join(' | ')}`,
    );
    if (this.supervising && !w.crash) {
      this.pendingRestarts++;
      void sleep(this.backoff('worker')).then(() => {
        this.pendingRestarts--;
        return this.supervising ? this.startWorker() : undefined;
      });
    }
  }

  normalWorkers(): WorkerHandle[] {
    return [...this.workers.values()].filter((w) => !w.crash && w.proc.alive);
  }

  /** Every process running and unfrozen, the normal worker count back at the baseline, no crash-flagged worker left. */
  async heal(): Promise<boolean> {
    let changed = false;
    for (const w of this.workers.values()) if (w.proc.frozen) (w.proc.signal('SIGCONT'), (changed = true));
    if (this.web?.frozen) (this.web.signal('SIGCONT'), (changed = true));
    for (const w of [...this.workers.values()]) if (w.crash) (await w.proc.stop(10_000), (changed = true));
    if (!this.web?.alive) (await this.startWeb(), (changed = true));
    // Let supervisor restarts that are already scheduled happen before counting.
    for (let i = 0; i < 120 && this.pendingRestarts > 0; i++) await sleep(100);
    const normal = this.normalWorkers();
    for (let i = normal.length; i < this.baselineWorkers; i++) (await this.startWorker(), (changed = true));
    for (const w of normal.slice(this.baselineWorkers)) (await w.proc.stop(), (changed = true));
    return changed;
  }

  async close(keepDatabase = false): Promise<void> {
    this.supervising = false;
    await Promise.all([...this.workers.values()].map((w) => w.proc.stop(10_000)));
    if (this.web) await this.web.stop(10_000);
    await this.pool.end().catch(() => undefined);
    if (!keepDatabase) await this.db.drop().catch(() => undefined);
  }
}
