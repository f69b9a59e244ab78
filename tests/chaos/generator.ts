import { createWriteStream, type WriteStream } from 'node:fs';
import http from 'node:http';
import type { SiteSpec } from './cluster';
import fc from 'fast-check';
import { storableText } from '@/lib/events/storable';
import { Random, sleep } from './util';

// The client side of the experiment: posts events with unique ids to the collect endpoint across
// several sites, retrying each send with the same ids until it is acknowledged (202), and logs
// every attempt as one of
//   ok            — 202: the bus has the events; they must be counted exactly once;
//   failed        — the server answered with an error, or the connection was refused before
//                   anything was sent;
//   indeterminate — timeout or connection reset after the request was sent: the events may or may
//                   not have been produced (Jepsen's "info" operations);
//   rejected      — a 4xx: the suite built a bad payload (never expected; not retried).
// The server stamps events itself; each payload carries the client's event time t and send time c,
// so the server's ts = receivedAt − (c − t). That lets the checker tie every stored record to the
// exact attempt that produced it.

export const CHROME_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const PATHS = ['/', '/pricing', '/blog/one', '/blog/two', '/docs/start', '/docs/api', '/about', '/cart'];
const VISITORS_PER_SITE = 60;

export type Outcome = 'ok' | 'failed' | 'indeterminate' | 'rejected';

export interface Attempt {
  /** Client send time (the payload's c), ms. */
  c: number;
  end: number;
  outcome: Outcome;
  status?: number;
  error?: string;
  resend: boolean;
}

export interface GeneratedEvent {
  id: string;
  site: SiteSpec;
  /** As sent. 'pageview' counts as a pageview; anything else as an event. */
  name: string;
  /** The name the archive must hold: collect trims it and makes it storable (F10's hostile names). */
  storedName: string;
  path: string;
  /** F10: the whole page URL and the properties, when not the plain https://host/path. */
  url?: string;
  props?: Record<string, string | number | boolean>;
  ip: string;
  /** Client event time, ms. */
  t: number;
  attempts: Attempt[];
  acked: boolean;
  resent: boolean;
}

interface Send {
  events: GeneratedEvent[];
  resend: boolean;
}

export interface GeneratorOptions {
  seed: number;
  port: () => number;
  sites: SiteSpec[];
  eventsPerSecond: number;
  logPath: string;
  maxInFlight?: number;
}

export class Generator {
  readonly events = new Map<string, GeneratedEvent>();
  private readonly random: Random;
  private readonly jitter: Random;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 24 });
  private readonly log: WriteStream;
  private readonly pending = new Set<Promise<void>>();
  /** HTTP requests currently in flight. */
  inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private timer?: NodeJS.Timeout;
  private abandoned = false;
  private created = 0;
  private startedAt = 0;
  readonly counts: Record<Outcome, number> = { ok: 0, failed: 0, indeterminate: 0, rejected: 0 };

  constructor(private readonly opts: GeneratorOptions) {
    this.random = new Random(opts.seed);
    this.jitter = new Random(opts.seed ^ 0x5bd1e995);
    this.log = createWriteStream(opts.logPath, { flags: 'w' });
  }

  start(): void {
    this.startedAt = Date.now();
    this.timer = setInterval(() => this.tick(), 50);
  }

  /** No new events from now on; sends already made keep retrying. */
  stopNew(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get acked(): GeneratedEvent[] {
    return [...this.events.values()].filter((e) => e.acked);
  }

  get unacked(): GeneratedEvent[] {
    return [...this.events.values()].filter((e) => !e.acked);
  }

  /** Waits until every send (and re-send) has been acknowledged, or the timeout. */
  async settle(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < until) await sleep(200);
    return this.pending.size === 0;
  }

  /** Stops every retry loop (end of the scenario). */
  async close(): Promise<void> {
    this.stopNew();
    this.abandoned = true;
    await Promise.race([Promise.allSettled([...this.pending]), sleep(15_000)]);
    this.agent.destroy();
    await new Promise<void>((r) => this.log.end(r));
  }

  /** F8: re-sends a share of the acknowledged events (same id, same event time), as a duplicate beacon would. */
  resend(fraction: number): number {
    const candidates = this.acked.filter((e) => !e.resent);
    const n = Math.min(candidates.length, Math.max(1, Math.round(fraction * this.acked.length)));
    const chosen = this.random.shuffle(candidates).slice(0, n);
    for (const e of chosen) {
      e.resent = true;
      this.launch({ events: [e], resend: true });
    }
    return chosen.length;
  }

  /**
   * F10: hostile but valid events — names, URLs and properties drawn by fast-check from all of
   * Unicode with NUL, lone surrogates, BOM and bidi controls over-represented, 2,000-character
   * URLs, paths of ~2,000 slashes (against the pathological content groups the cluster's first
   * site has), the most properties at their byte limits — sent and tracked like any other event,
   * so every criterion holds for them too.
   */
  hostile(count: number): number {
    const draws = fc.sample(hostileEvent, { seed: this.random.int(0, 2 ** 31 - 1), numRuns: count });
    const site = this.opts.sites[0]!;
    for (const d of draws) {
      const v = this.random.int(0, VISITORS_PER_SITE - 1);
      const url = hostileUrl(site.host, d.path);
      const e: GeneratedEvent = {
        id: this.random.uuid(),
        site,
        name: d.name,
        storedName: storableText(d.name.trim()),
        path: new URL(url).pathname,
        url,
        props: d.props,
        ip: `10.1.${v >> 8}.${(v & 255) + 1}`,
        t: Date.now() - this.random.int(0, 300),
        attempts: [],
        acked: false,
        resent: false,
      };
      this.events.set(e.id, e);
      this.launch({ events: [e], resend: false });
    }
    return draws.length;
  }

  private tick(): void {
    const due = Math.floor(((Date.now() - this.startedAt) / 1000) * this.opts.eventsPerSecond);
    while (this.created < due) {
      // Mostly single events; sometimes a small batch, as a tracker flushing a queue sends.
      const size = this.random.chance(0.2) ? this.random.int(2, 3) : 1;
      const site = this.random.pick(this.opts.sites);
      const siteIndex = this.opts.sites.indexOf(site);
      const v = this.random.int(0, VISITORS_PER_SITE - 1);
      const ip = `10.${siteIndex + 1}.${v >> 8}.${(v & 255) + 1}`;
      const now = Date.now();
      const events: GeneratedEvent[] = [];
      for (let i = 0; i < size; i++) {
        const name = this.random.chance(0.85) ? 'pageview' : 'signup';
        const e: GeneratedEvent = {
          id: this.random.uuid(),
          site,
          name,
          storedName: name,
          path: this.random.pick(PATHS),
          ip,
          t: now - this.random.int(0, 300),
          attempts: [],
          acked: false,
          resent: false,
        };
        this.events.set(e.id, e);
        events.push(e);
      }
      this.created += size;
      this.launch({ events, resend: false });
    }
  }

  private launch(send: Send): void {
    const p = this.deliver(send).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async deliver(send: Send): Promise<void> {
    for (let n = 0; !this.abandoned; n++) {
      await this.slot();
      let a: Attempt;
      try {
        a = await this.attempt(send);
      } finally {
        this.release();
      }
      for (const e of send.events) e.attempts.push(a);
      this.counts[a.outcome]++;
      this.log.write(`${JSON.stringify({ ids: send.events.map((e) => e.id), ...a })}\n`);
      if (a.outcome === 'ok') {
        for (const e of send.events) e.acked = true;
        return;
      }
      if (a.outcome === 'rejected') return;
      const retryAfter = a.status === 503 ? 2000 : 0;
      await sleep(Math.max(retryAfter, Math.min(2000, 150 * 2 ** Math.min(n, 4))) + this.jitter.int(0, 250));
    }
  }

  private slot(): Promise<void> {
    if (this.inFlight < (this.opts.maxInFlight ?? 16)) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.slotWaiters.push(() => (this.inFlight++, resolve())));
  }

  private release(): void {
    this.inFlight--;
    this.slotWaiters.shift()?.();
  }

  private attempt(send: Send): Promise<Attempt> {
    const c = Date.now();
    const payloads = send.events.map((e) => ({
      s: e.site.key,
      u: e.url ?? `https://${e.site.host}${e.path}`,
      i: e.id,
      n: e.name,
      t: e.t,
      c,
      w: 1440,
      ...(e.props ? { p: e.props } : {}),
    }));
    const body = JSON.stringify(payloads.length === 1 ? payloads[0] : payloads);
    const ip = send.events[0]!.ip;
    return new Promise<Attempt>((resolve) => {
      let done = false;
      const finish = (outcome: Outcome, extra: { status?: number; error?: string } = {}) => {
        if (done) return;
        done = true;
        resolve({ c, end: Date.now(), outcome, resend: send.resend, ...extra });
      };
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.opts.port(),
          path: '/api/collect',
          method: 'POST',
          agent: this.agent,
          timeout: 10_000,
          headers: {
            'content-type': 'text/plain',
            'user-agent': CHROME_UA,
            'x-forwarded-for': ip,
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('error', (err) =>
            finish('indeterminate', { status: res.statusCode, error: `response: ${err.message}` }),
          );
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status === 202) finish('ok', { status });
            else if (status >= 400 && status < 500) finish('rejected', { status });
            else finish('failed', { status });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // Refused: nothing reached the server. Anything else after connecting: it may have.
        if (err.code === 'ECONNREFUSED') finish('failed', { error: err.code });
        else finish('indeterminate', { error: err.code ?? err.message });
      });
      req.end(body);
    });
  }
}

// --- F10's hostile events

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** One UTF-16 unit or astral character, with what breaks storage and display over-represented. */
const hostileUnit = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '\u0000',
      '\ud800',
      '\udbff',
      '\udc00',
      '\udfff',
      '\u202e',
      '\u200f',
      '\u2066',
      '\ufeff',
      '\u0085',
      '\u2028',
      '\u001f',
      '%',
      '"',
      '\\',
      '/',
      '#',
      '?',
      ' ',
    ),
  },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);
const hostileString = (min: number, max: number) => fc.string({ unit: hostileUnit, minLength: min, maxLength: max });
const hostileEvent = fc.record({
  // Never blank after trimming (that is a 400), never 'pageview' by accident.
  name: fc.oneof(
    fc.constant('pageview'),
    hostileString(0, 110).map((s) => `x${s}`),
  ),
  path: fc.oneof(
    hostileString(0, 300),
    fc.integer({ min: 1, max: 1990 }).map((n) => '/'.repeat(n)),
    fc.constant('é'.repeat(2000)),
  ),
  props: fc.option(
    fc.dictionary(
      hostileString(1, 24).filter((k) => bytes(k) <= 64),
      fc.oneof(
        hostileString(0, 90).filter((v) => bytes(v) <= 256),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.boolean(),
      ),
      { maxKeys: 30 },
    ),
    { nil: undefined },
  ),
});

/** An absolute URL on the site's host, at most 2,000 characters, that URL.canParse accepts. */
function hostileUrl(host: string, path: string): string {
  const url = `https://${host}/${path}`.slice(0, 2000);
  return URL.canParse(url) ? url : `https://${host}/`;
}
