// Per-site token bucket: a site may burst up to its per-minute limit, refilled continuously.
// Pure, with the clock passed in. One bucket set per collect process, so with N web processes
// the effective limit is up to N times the setting (stated in ARCHITECTURE.md).

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  allow(key: string, perMinute: number, now: number, cost = 1): boolean {
    const b = this.buckets.get(key) ?? { tokens: perMinute, at: now };
    b.tokens = Math.min(perMinute, b.tokens + ((now - b.at) * perMinute) / 60_000);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }
}
