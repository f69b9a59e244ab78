import { KafkaBus } from '@/lib/bus/kafka';
import type { ChaosBroker } from './broker';
import { CRASH_POINTS, PARTITIONS, type ChaosCluster, type CrashPoint, type WorkerHandle } from './cluster';
import type { Generator } from './generator';
import { sleep, type Random, type RunLog } from './util';

// The nemesis: injects faults F1–F9 (docs/RELIABILITY.md) against the real processes of one
// scenario, on a schedule drawn from the scenario's seed. Faults run one after another (a fault
// that has not healed yet — a crashed member the group still waits for, a broker catching up —
// overlaps the next one); every injection is recorded with what exactly was done.

export const FAULTS = {
  F1: 'worker kill -9 at a named crash point',
  F2: 'graceful stop/start, scale 1→3→1 (rebalance storm)',
  F3: 'zombie worker (SIGSTOP past the session timeout, SIGCONT)',
  F4: 'broker kill -9, restart on the same data',
  F5: 'broker pause (SIGSTOP/SIGCONT)',
  F6: 'PostgreSQL backend termination',
  F7: 'collect (web) process kill -9',
  F8: 're-send of 1 % of acknowledged events',
  F9: 'poison record produced straight to the topic',
  F10: 'hostile but valid events (fast-check Unicode, NUL, lone surrogates, 2,000-character URLs, maximum properties) against pathological content groups',
} as const;
export type FaultKind = keyof typeof FAULTS;

/** Rough wall time of each injection, so the schedule does not start one it cannot finish. */
const COST_MS: Record<FaultKind, number> = {
  F1: 15_000,
  F2: 24_000,
  F3: 42_000,
  F4: 16_000,
  F5: 12_000,
  F6: 4_000,
  F7: 12_000,
  F8: 500,
  F9: 500,
  F10: 500,
};

/** Extra faults after the required ones: cheap ones twice as likely. */
export const FILL: readonly FaultKind[] = [
  'F1',
  'F2',
  'F3',
  'F4',
  'F5',
  'F6',
  'F6',
  'F7',
  'F8',
  'F8',
  'F9',
  'F9',
  'F10',
  'F10',
];
/** Faults that touch the shared broker (F7 freezes it for 0.7 s half the time). */
export const BROKER_FAULTS: readonly FaultKind[] = ['F4', 'F5', 'F7'];

/**
 * F3 freezes a worker for longer than this. The workers run with CONSUMER_SESSION_TIMEOUT_MS'
 * default (10 s); the freeze is measured from kafkajs' 30 s default, so it outlasts either.
 */
export const SESSION_TIMEOUT_MS = 30_000;

export interface FaultRecord {
  kind: FaultKind;
  detail: string;
  start: number;
  end: number;
}

export interface PoisonRecord {
  partition: number;
  offset: string;
  form: string;
}

export interface FaultOptions {
  crashPoint?: CrashPoint;
  crashAfter?: number;
  /** F1: count and crash in this job's batches only (default: any job of the worker process). */
  crashJob?: string;
  /** F3: freeze the worker inside a batch transaction holding a poison record (default true). */
  zombieMidTransaction?: boolean;
}

export class Nemesis {
  readonly faults: FaultRecord[] = [];
  readonly poison: PoisonRecord[] = [];
  private readonly bus: KafkaBus;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly broker: ChaosBroker,
    private readonly gen: Generator,
    private readonly random: Random,
    private readonly log: RunLog,
    private readonly label: string,
  ) {
    this.bus = new KafkaBus([broker.brokers], 'chaos-nemesis');
  }

  get lastFaultEnd(): number {
    return Math.max(0, ...this.faults.map((f) => f.end));
  }

  /**
   * Injects every fault of `must` in a seeded order — even past the deadline, so a run always covers
   * its list — then, with `fill`, seeded extra faults while one still fits before the deadline.
   */
  async run(
    deadline: number,
    must: FaultKind[],
    fill: boolean,
    options: FaultOptions = {},
    fillFrom: readonly FaultKind[] = FILL,
  ): Promise<void> {
    const queue = this.random.shuffle(must);
    await sleep(this.random.int(3000, 6000));
    for (const kind of queue) {
      await this.inject(kind, options);
      await sleep(this.random.int(1500, 4000));
    }
    while (fill) {
      const kind = this.random.pick(fillFrom);
      if (Date.now() + COST_MS[kind] > deadline) {
        if (deadline - Date.now() < COST_MS.F6) break;
        continue;
      }
      await this.inject(kind, options);
      await sleep(this.random.int(2000, 6000));
    }
  }

  async inject(kind: FaultKind, options: FaultOptions = {}): Promise<void> {
    const start = Date.now();
    this.log.line(this.label, `${kind} ${FAULTS[kind]} …`);
    let detail: string;
    try {
      detail = await this.faultFns[kind](options);
    } catch (e) {
      detail = `injection error: ${(e as Error).message}`;
    }
    const rec = { kind, detail, start, end: Date.now() };
    this.faults.push(rec);
    this.log.line(this.label, `${kind} done in ${((rec.end - start) / 1000).toFixed(1)} s: ${detail}`);
  }

  private readonly faultFns: Record<FaultKind, (o: FaultOptions) => Promise<string>> = {
    F1: (o) =>
      this.crashAtPoint(
        o.crashPoint ?? this.random.pick(CRASH_POINTS),
        o.crashAfter ?? this.random.int(1, 6),
        o.crashJob,
      ),
    F2: () => this.scaleStorm(),
    F3: (o) => this.zombie(o.zombieMidTransaction ?? true),
    F4: () => this.brokerCrash(),
    F5: () => this.brokerPause(),
    F6: () => this.terminateBackends(),
    F7: () => this.killWeb(),
    F8: async () => {
      // Early in a run on a loaded machine nothing may be acknowledged yet, and a re-send of
      // nothing tests nothing (the no-event-id-dedup control then went uncaught): wait for one.
      for (let i = 0; i < 60 && !this.gen.acked.some((e) => !e.resent); i++) await sleep(500);
      return `re-sent ${this.gen.resend(0.01)} acknowledged event(s) with their ids`;
    },
    F9: async () => {
      const p = await this.producePoison();
      return `poison (${p.form}) at partition ${p.partition} offset ${p.offset}`;
    },
    F10: async () =>
      `sent ${this.gen.hostile(this.random.int(15, 40))} hostile event(s) to ${this.cluster.sites[0]!.host}`,
  };

  private normalWorker(): WorkerHandle | undefined {
    const ws = this.cluster.normalWorkers().filter((w) => !w.proc.frozen);
    return ws.length ? this.random.pick(ws) : undefined;
  }

  /** F1: a worker restarted with EDDY_TEST_CRASH_POINT kills itself (SIGKILL) at that point of its Nth batch; then it starts normally. */
  private async crashAtPoint(point: CrashPoint, after: number, job?: string): Promise<string> {
    const replaced = this.normalWorker();
    if (replaced) await replaced.proc.stop();
    const crash = await this.cluster.startWorker({ point, after, job });
    // 120 s: a worker's start on a loaded machine (tsx, group join) can take most of a minute.
    const outcome = await Promise.race([crash.proc.exited, sleep(120_000).then(() => null)]);
    let what: string;
    if (outcome?.signal === 'SIGKILL') what = `died at ${point} on batch ${after}`;
    else if (outcome) what = `exited with code ${outcome.code} before reaching ${point}`;
    else {
      await crash.proc.stop();
      what = `did not reach ${point} within 120 s (stopped)`;
    }
    await this.cluster.startWorker();
    return `${crash.name} ${what}; a normal worker started in its place`;
  }

  /** F2: graceful stops and starts: N → 1 → 3 → 1 → N workers, a few seconds apart. */
  private async scaleStorm(): Promise<string> {
    const steps: string[] = [];
    const scaleTo = async (n: number) => {
      const ws = this.cluster.normalWorkers();
      if (ws.length > n) await Promise.all(ws.slice(n).map((w) => w.proc.stop()));
      else await Promise.all(Array.from({ length: n - ws.length }, () => this.cluster.startWorker()));
      steps.push(String(this.cluster.normalWorkers().length));
    };
    steps.push(String(this.cluster.normalWorkers().length));
    await scaleTo(1);
    await sleep(this.random.int(2000, 5000));
    await scaleTo(3);
    await sleep(this.random.int(4000, 7000));
    await scaleTo(1);
    await sleep(this.random.int(2000, 5000));
    await scaleTo(this.cluster.baselineWorkers);
    return `worker processes ${steps.join(' → ')}`;
  }

  /**
   * F3: SIGSTOP a worker for longer than the consumer session timeout, then SIGCONT. By default the
   * worker is caught *inside* a batch transaction: a lock on ingestion_ledger makes the rollups job
   * wait right after it dead-lettered a poison record we produce, we freeze the process whose
   * backend waits, and release the lock — its transaction stays open, holding the partition's
   * progress row, while the group hands the partition to another member.
   */
  private async zombie(midTransaction: boolean): Promise<string> {
    const hold = SESSION_TIMEOUT_MS + this.random.int(4000, 8000);
    let victim: WorkerHandle | undefined;
    let how = 'between batches';
    let frozenXid: string | null = null;
    let frozenPid: number | null = null;
    if (midTransaction) {
      // The trap needs a rollups consumer at work: after a crash the group may wait out a dead member.
      for (let i = 0; i < 90 && !(await this.rollupsActive()); i++) await sleep(500);
      const trap = await this.cluster.pool.connect();
      const dam = await this.cluster.pool.connect();
      try {
        await trap.query('BEGIN');
        await trap.query('LOCK TABLE ingestion_ledger IN SHARE MODE');
        // Hold the rollups batches back for a moment (they wait to archive), so the batch that
        // carries the poison record also carries the events that arrived meanwhile.
        await dam.query('BEGIN');
        await dam.query('LOCK TABLE events IN SHARE MODE');
        await sleep(1500);
        const p = await this.producePoison();
        await sleep(300);
        await dam.query('ROLLBACK');
        const until = Date.now() + 12_000;
        while (!victim && Date.now() < until) {
          // Polled on another connection: within one transaction pg_stat_activity is a frozen snapshot.
          const r = await this.cluster.pool.query<{ application_name: string; xid: string | null; pid: number }>(
            "SELECT application_name, backend_xid::text AS xid, pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%dead_lettered%' AND application_name LIKE 'chaos-w%'",
          );
          const name = r.rows[0]?.application_name.slice('chaos-'.length);
          victim = name ? this.cluster.workers.get(name) : undefined;
          if (victim) {
            victim.proc.signal('SIGSTOP');
            frozenXid = r.rows[0]!.xid;
            frozenPid = r.rows[0]!.pid;
            how = `inside the batch transaction that dead-letters the poison record at partition ${p.partition} offset ${p.offset}`;
          } else await sleep(50);
        }
      } finally {
        await dam.query('ROLLBACK').catch(() => undefined);
        dam.release();
        await trap.query('ROLLBACK').catch(() => undefined);
        trap.release();
      }
    }
    if (!victim) {
      victim = this.normalWorker();
      if (!victim) return 'no worker to freeze';
      victim.proc.signal('SIGSTOP');
    }
    await sleep(hold);
    if (frozenPid !== null) {
      // A zombie needs the other side: a member that took the partition over and now waits for the
      // frozen transaction. On a loaded machine the rebalance can outlast the hold (the
      // no-offset-filter control then went uncaught: the taker arrived after the commit and read
      // the new position). So the freeze lasts until such a member waits, up to 60 s more.
      const taker = await this.waitForTaker(frozenPid, victim.name, 60_000);
      how += taker
        ? `, until ${taker} (which took the partition over) waited for it`
        : ', and no other member reached the partition meanwhile';
    }
    victim.proc.signal('SIGCONT');
    if (frozenXid) {
      // How many events the frozen batch carried (rows its transaction archived), once it committed.
      await sleep(3000);
      const n = await this.cluster.pool
        .query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE xmin::text = $1', [frozenXid])
        .then((x) => x.rows[0]!.n)
        .catch(() => -1);
      how += ` (its transaction archived ${n} event(s) besides the poison)`;
    }
    return `worker ${victim.name} frozen ${(hold / 1000).toFixed(0)} s ${how}, then SIGCONT`;
  }

  /** The worker waiting to lock a progress row the frozen backend holds, once there is one (else null after `ms`). */
  private async waitForTaker(frozenPid: number, victim: string, ms: number): Promise<string | null> {
    const until = Date.now() + ms;
    for (;;) {
      const r = await this.cluster.pool
        .query<{ application_name: string }>(
          "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'chaos-w%' AND application_name <> $2 AND query LIKE '%FROM consumer_progress%' AND $1 = ANY(pg_blocking_pids(pid))",
          [frozenPid, `chaos-${victim}`],
        )
        .catch(() => ({ rows: [] as { application_name: string }[] }));
      if (r.rows[0]) return r.rows[0].application_name.slice('chaos-'.length);
      if (Date.now() >= until) return null;
      await sleep(200);
    }
  }

  /** Every partition of the events topic had a rollups batch committed within the last 3 s. */
  private async rollupsActive(): Promise<boolean> {
    const r = await this.cluster.pool
      .query<{ n: number }>(
        "SELECT count(*)::int AS n FROM consumer_progress WHERE job = 'rollups' AND topic = $1 AND updated_at > now() - interval '3 seconds'",
        [this.cluster.eventsTopic],
      )
      .catch(() => ({ rows: [{ n: 0 }] }));
    return r.rows[0]!.n >= PARTITIONS;
  }

  /** F4: kill -9 the broker, keep it down a few seconds, start it again on the same data. */
  private async brokerCrash(): Promise<string> {
    const down = this.random.int(2000, 6000);
    await this.broker.kill9();
    await sleep(down);
    const t = Date.now();
    await this.broker.restart();
    return `broker down ${(down / 1000).toFixed(1)} s, restart took ${((Date.now() - t) / 1000).toFixed(1)} s`;
  }

  /** F5: SIGSTOP the broker's JVM, SIGCONT later. */
  private async brokerPause(): Promise<string> {
    const hold = this.random.int(4000, 11_000);
    this.broker.pause();
    await sleep(hold);
    this.broker.resume();
    return `broker frozen ${(hold / 1000).toFixed(1)} s`;
  }

  /** F6: terminate every backend of the scenario's database, three times over ~2 s (a server restart is not ours to do). */
  private async terminateBackends(): Promise<string> {
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await this.cluster.pool.query<{ n: number }>(
        'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      counts.push(r.rows[0]!.n);
      await sleep(this.random.int(300, 1200));
    }
    return `terminated ${counts.join(' + ')} backends`;
  }

  /**
   * F7: kill -9 the web process with requests in flight, start it again. Half the time (seeded) the
   * kill lands after the records were handed to the bus but before any answer: the broker is frozen
   * for 0.7 s so requests pile up with their produce requests sent, the web process is killed, and
   * the broker thawed — it stores what was sent, and nobody is left to answer the clients.
   */
  private async killWeb(): Promise<string> {
    const web = this.cluster.web;
    if (!web?.alive) return 'web process was not running';
    let how: string;
    if (this.random.chance(0.5) && this.broker.alive && !this.broker.paused) {
      this.broker.pause();
      await sleep(700);
      how = `while ${this.gen.inFlight} request(s) waited for a frozen broker to acknowledge (thawed right after)`;
      await web.kill9();
      this.broker.resume();
    } else {
      for (let i = 0; i < 100 && this.gen.inFlight === 0; i++) await sleep(20);
      how = `with ${this.gen.inFlight} request(s) in flight`;
      await web.kill9();
    }
    const t = Date.now();
    await this.cluster.startWeb();
    return `${web.name} killed ${how}; restarted in ${((Date.now() - t) / 1000).toFixed(1)} s`;
  }

  /** F9: a record no job can read, produced straight to the events topic (retried until the broker takes it). */
  async producePoison(): Promise<PoisonRecord> {
    const forms = [
      ['not JSON', Buffer.from('{"v":1,"eventId":')],
      ['JSON, not an event record', Buffer.from(JSON.stringify({ v: 2, hello: 'world' }))],
      ['binary', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02])],
      ['empty', Buffer.alloc(0)],
    ] as const;
    const [form, value] = this.random.pick(forms);
    const key = `poison:${this.random.uuid()}`;
    const until = Date.now() + 90_000;
    for (;;) {
      try {
        const [report] = await this.bus.producer().send(this.cluster.eventsTopic, [{ key, value }]);
        const rec = { partition: report!.partition, offset: report!.offset, form };
        this.poison.push(rec);
        return rec;
      } catch (e) {
        if (Date.now() > until) throw e;
        await sleep(1000);
      }
    }
  }

  /** Everything back: broker up and thawed, every process running and thawed, the baseline worker count. */
  /** Returns whether anything was still broken. */
  async heal(): Promise<boolean> {
    const broker = await this.broker.heal();
    return (await this.cluster.heal()) || broker;
  }

  async close(): Promise<void> {
    await this.bus.close().catch(() => undefined);
  }
}
