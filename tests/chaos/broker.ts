import { rmSync } from 'node:fs';
import path from 'node:path';
import { env } from '@/lib/env';
import { ensureKafka, stopProcess } from '../../scripts/services/kafka';
import { portOpen, repoRoot } from '../../scripts/services/util';
import { freePort } from '../helpers/stack';
import { sleep } from './util';

// The chaos suite's own Kafka broker (KRaft, one node) on its own port and data directory: it
// gets kill -9 and SIGSTOP, so it must never be the broker other tests share. Restarts reuse
// the same data directory, as a crashed broker's supervisor would.

export class ChaosBroker {
  pid?: number;
  paused = false;
  private constructor(
    readonly port: number,
    readonly name: string,
  ) {}

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(): Promise<ChaosBroker> {
    // The controller listens on port + 1: both must be free.
    let port = await freePort();
    while (await portOpen(port + 1)) port = await freePort();
    const b = new ChaosBroker(port, `chaos-${port}`);
    await b.launch();
    return b;
  }

  private async launch(): Promise<void> {
    const e = env();
    const h = await ensureKafka({
      version: e.KAFKA_VERSION,
      port: this.port,
      dataDir: e.EDDY_DATA_DIR,
      name: this.name,
    });
    if (!h.started) throw new Error(`port ${this.port} is already taken by another broker`);
    this.pid = h.pid;
    this.paused = false;
  }

  get alive(): boolean {
    if (!this.pid) return false;
    try {
      process.kill(this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** F4: kill -9; the data directory stays. */
  async kill9(): Promise<void> {
    if (!this.pid) return;
    const pid = this.pid;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
    this.pid = undefined;
    this.paused = false;
    for (let i = 0; i < 100 && ((await portOpen(this.port)) || (await portOpen(this.port + 1))); i++) await sleep(100);
  }

  /** Start again on the same data (after kill9). */
  async restart(): Promise<void> {
    if (this.alive) return;
    await this.launch();
  }

  /** F5: freeze the JVM. */
  pause(): void {
    if (!this.pid) return;
    process.kill(this.pid, 'SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.pid) return;
    process.kill(this.pid, 'SIGCONT');
    this.paused = false;
  }

  /** Running and not frozen. */
  async heal(): Promise<boolean> {
    const changed = this.paused || !this.alive;
    if (this.paused) this.resume();
    if (!this.alive) await this.restart();
    return changed;
  }

  async stop(): Promise<void> {
    if (this.paused) this.resume();
    if (this.pid) await stopProcess(this.pid, 20_000);
    this.pid = undefined;
    rmSync(path.resolve(repoRoot, env().EDDY_DATA_DIR, 'kafka', this.name), { recursive: true, force: true });
  }
}
