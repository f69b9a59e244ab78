import { randomUUID } from 'node:crypto';

// Synthetic but realistic collect traffic: what the tracker sends for a pageview, from desktop
// Chrome (a "node" user agent would be dropped as a bot), spread over many visitors (client IPs
// arrive in X-Forwarded-For, which the benchmark servers are told to trust), pages and referrers.

export const SITE_HOST = 'shop.example';

export const CHROME_USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
];

const PATHS = [
  '/',
  '/pricing',
  '/blog',
  '/blog/cookieless-analytics-explained',
  '/blog/kafka-for-web-analytics',
  '/docs/getting-started',
  '/docs/api/collect',
  '/products/espresso-grinder',
  '/products/pour-over-kettle',
  '/cart',
  '/checkout',
  '/about',
];

const QUERIES = [
  '',
  '',
  '',
  '?utm_source=newsletter&utm_medium=email&utm_campaign=autumn',
  '?gclid=Cj0KCQjw',
  '?ref=producthunt',
  '?page=2',
];

const REFERRERS = [
  '',
  '',
  'https://www.google.com/',
  'https://www.bing.com/',
  'https://duckduckgo.com/',
  'https://news.ycombinator.com/',
  'https://www.reddit.com/r/webdev/',
  'https://t.co/abc123',
  'https://chatgpt.com/',
  'https://mail.google.com/',
  'https://blog.partner.example/best-tools-2026',
  `https://${SITE_HOST}/blog`,
];

/** Deterministic PRNG (mulberry32), so every run sends the same mix. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CollectRequest {
  /** The event id inside `body` (for matching the 202 with where the event shows up). */
  eventId: string;
  body: string;
  userAgent: string;
  clientIp: string;
}

/** An endless stream of pageviews for one site, each with a fresh event id. */
export function pageviews(siteKey: string, seed: number, visitors = 20_000): () => CollectRequest {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  return () => {
    const visitor = Math.floor(random() * visitors);
    const now = Date.now();
    const eventId = randomUUID();
    return {
      eventId,
      body: JSON.stringify({
        s: siteKey,
        n: 'pageview',
        u: `https://${SITE_HOST}${pick(PATHS)}${pick(QUERIES)}`,
        r: pick(REFERRERS),
        i: eventId,
        t: now,
        c: now,
        w: 1440,
      }),
      userAgent: CHROME_USER_AGENTS[visitor % CHROME_USER_AGENTS.length]!,
      // 198.18.0.0/15 is reserved for benchmarking (RFC 2544).
      clientIp: `198.18.${(visitor >> 8) & 0xff}.${visitor & 0xff}`,
    };
  };
}
