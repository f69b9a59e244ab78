import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { rng } from '../helpers/traffic';

// Small helpers shared by the chaos suite: a seeded random source with the few draws the
// generator and the nemesis need, timestamps for the console, sleeping, and where logs go.

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const chaosArtifacts = path.join(repoRoot, 'tests/artifacts/chaos');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Random {
  private readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = rng(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
  /** A version-4 UUID drawn from this source, so a seed names the same events on every run. */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16));
    hex[12] = '4';
    hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
    const h = hex.join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}

/** Console lines with the time since the run started, and a copy in the run's log file. */
export class RunLog {
  private readonly t0 = Date.now();
  constructor(
    readonly dir: string,
    private readonly quiet = false,
  ) {
    mkdirSync(dir, { recursive: true });
  }
  line(scope: string, msg: string): void {
    const s = `[chaos +${((Date.now() - this.t0) / 1000).toFixed(1).padStart(6)}s] ${scope}: ${msg}`;
    appendFileSync(path.join(this.dir, 'run.log'), `${s}\n`);
    if (!this.quiet) console.log(s);
  }
  file(name: string): string {
    return path.join(this.dir, name);
  }
}
