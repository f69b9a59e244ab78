import { EddyError } from '../errors';

// Tenant-fair reads (issue 13, noisy neighbour). One tenant's expensive reads — filtered views
// rebuild visits from the raw events, seconds each on a large site — used to hold every
// connection of the shared pool: 12 filtered breakdowns through one public share link made
// another site's plain dashboard wait 20 s. Now:
//   - raw-events queries run on their own bounded pool (lib/db/client.ts analyticsPool), so the
//     rollup queries every plain dashboard makes never queue behind them;
//   - each site runs at most a few of them at once, and the rest wait here, in memory, holding
//     no connection — so the pool is shared between sites, not taken by the first one;
//   - public share links have their own concurrency and request-rate limits (lib/http/policy.ts).
// Per web process: with N web processes, N times these numbers (stated in docs/SECURITY.md).

/**
 * At most `limit` tasks per key at once; up to `maxQueued` more wait in arrival order; beyond
 * that the caller gets 429 with Retry-After instead of an ever longer queue.
 */
export class ConcurrencyGate {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(
    readonly limit: number,
    readonly maxQueued: number,
    private readonly what: string,
  ) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    await this.acquire(key);
    try {
      return await task();
    } finally {
      this.release(key);
    }
  }

  /** Tasks running and waiting for `key`. */
  load(key: string): { active: number; waiting: number } {
    return { active: this.active.get(key) ?? 0, waiting: this.waiting.get(key)?.length ?? 0 };
  }

  private acquire(key: string): Promise<void> {
    const n = this.active.get(key) ?? 0;
    if (n < this.limit) {
      this.active.set(key, n + 1);
      return Promise.resolve();
    }
    const queue = this.waiting.get(key) ?? [];
    if (queue.length >= this.maxQueued) {
      return Promise.reject(
        new EddyError('rate_limited', `Too many ${this.what} at once; try again in a few seconds`, { retryAfter: 5 }),
      );
    }
    this.waiting.set(key, queue);
    // The slot is handed over by release(): `active` stays counted for the waiter.
    return new Promise<void>((resolve) => queue.push(resolve));
  }

  private release(key: string): void {
    const queue = this.waiting.get(key);
    const next = queue?.shift();
    if (queue && queue.length === 0) this.waiting.delete(key);
    if (next) return next();
    const n = (this.active.get(key) ?? 1) - 1;
    if (n <= 0) this.active.delete(key);
    else this.active.set(key, n);
  }
}
