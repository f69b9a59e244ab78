import { isIPv6 } from 'node:net';
import { MINUTE } from '@/lib/time';

// Token buckets: a key may burst up to its per-minute limit, refilled continuously. Pure, with
// the clock passed in. One bucket set per collect process, so with N web processes the effective
// limit is up to N times the setting (stated in ARCHITECTURE.md).
//
// Collect checks three budgets, narrowest first — client IP, then visitor, then site — and an
// event refused by a narrower one never spends the wider one: a flood from one address used to
// empty its site's budget in a second and get the real visitors after it dropped (issue 13).

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private sweptAt = 0;

  /** `maxKeys` bounds memory under a flood of distinct keys (rotating addresses). */
  constructor(private readonly maxKeys = 200_000) {}

  allow(key: string, perMinute: number, now: number, cost = 1): boolean {
    this.sweep(now);
    const b = this.buckets.get(key) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + ((now - b.at) * perMinute) / MINUTE);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  /**
   * A bucket untouched for a minute is full again, the same as no bucket: forget it. Past
   * maxKeys the oldest-touched go first (Map keeps insertion order; allow() re-inserts on use
   * only for new keys, so this is approximate, which is fine for a memory bound).
   */
  private sweep(now: number): void {
    if (now - this.sweptAt < 10_000 && this.buckets.size < this.maxKeys) return;
    this.sweptAt = now;
    for (const [k, b] of this.buckets) if (now - b.at >= MINUTE) this.buckets.delete(k);
    for (const k of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(k);
    }
  }
}

/** The address a limit applies to: IPv6 clients by /64, the block one subscriber or host gets. */
export function clientKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  if (ip.startsWith('::ffff:') && ip.includes('.')) return ip.slice(7); // IPv4-mapped
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, '').toLowerCase())
    .join(':')}::/64`;
}
