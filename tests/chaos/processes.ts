import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { repoRoot, sleep } from './util';

// One real OS process of the topology (web or worker), started the way production starts it
// (`node --import tsx <entry>`), with its output in a log file and the last lines kept for the
// report. Faults act on it with real signals: SIGKILL, SIGTERM, SIGSTOP/SIGCONT.

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export class ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt = Date.now();
  exit?: ExitInfo;
  readonly exited: Promise<ExitInfo>;
  /** Set before a deliberate stop or kill, so the supervisor does not count the exit as a crash. */
  expectExit = false;
  frozen = false;
  private readonly tail: string[] = [];
  private readonly log: WriteStream;
  private readonly lineWaiters = new Set<{ re: RegExp; resolve: () => void }>();

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    logPath: string,
    opts: { cwd?: string; nodeArgs?: string[] } = {},
  ) {
    this.log = createWriteStream(logPath, { flags: 'a' });
    this.log.write(`\n==== ${new Date().toISOString()} start ${name}: ${args.join(' ')}\n`);
    this.child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', ...args], {
      cwd: opts.cwd ?? repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid!;
    let partial = '';
    const onData = (d: Buffer) => {
      this.log.write(d);
      const text = partial + d.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) this.addLine(l);
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        if (partial) this.addLine(partial);
        this.exit = { code, signal, at: Date.now() };
        this.log.write(`==== ${new Date().toISOString()} exit ${name}: code ${code} signal ${signal}\n`);
        this.log.end();
        resolve(this.exit);
      });
    });
  }

  private addLine(l: string): void {
    this.tail.push(l);
    if (this.tail.length > 200) this.tail.shift();
    for (const w of this.lineWaiters) if (w.re.test(l)) w.resolve();
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  lastLines(n: number): string[] {
    return this.tail.filter((l) => l.trim()).slice(-n);
  }

  sawLine(re: RegExp): boolean {
    return this.tail.some((l) => re.test(l));
  }

  /** Resolves when a line matching `re` appears; rejects if the process exits first or on timeout. */
  async waitForLine(re: RegExp, timeoutMs: number): Promise<void> {
    if (this.sawLine(re)) return;
    let waiter: { re: RegExp; resolve: () => void } | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          waiter = { re, resolve };
          this.lineWaiters.add(waiter);
        }),
        this.exited.then((e) => {
          throw new Error(
            `${this.name} exited (code ${e.code}, signal ${e.signal}) before printing ${re}: ${this.lastLines(6).join(' | ')}`,
          );
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(`${this.name} did not print ${re} within ${timeoutMs} ms: ${this.lastLines(6).join(' | ')}`),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      if (waiter) this.lineWaiters.delete(waiter);
      clearTimeout(timer);
    }
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.alive) return;
    try {
      process.kill(this.pid, sig);
    } catch {
      // already gone
    }
    if (sig === 'SIGSTOP') this.frozen = true;
    if (sig === 'SIGCONT') this.frozen = false;
  }

  async kill9(): Promise<ExitInfo> {
    this.expectExit = true;
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGTERM (the process shuts down gracefully), SIGKILL after the grace period. */
  async stop(graceMs = 15_000): Promise<ExitInfo> {
    this.expectExit = true;
    if (this.frozen) this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timeout = sleep(graceMs).then(() => 'timeout' as const);
    if ((await Promise.race([this.exited, timeout])) === 'timeout') this.signal('SIGKILL');
    return this.exited;
  }
}
