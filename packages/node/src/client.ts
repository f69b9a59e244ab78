import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

// The part of the SDK that talks to Eddy. Capturing a request only pushes an object onto a
// bounded in-memory queue (track() never waits, never throws); a background sender posts batches
// to Eddy's events API over keep-alive connections, retries failures with exponential backoff
// and the *same* event ids (Eddy counts each id once), and when the queue is full — Eddy
// unreachable for long enough — drops new events and counts them instead of growing.

/** One event for POST /api/v1/events (see Eddy's docs/API.md). */
export interface EddyEvent {
  id: string;
  name: string;
  url: string;
  referrer?: string;
  props?: Record<string, string | number | boolean>;
  ip: string;
  user_agent: string;
  /** ms since epoch, when it happened (this process's clock; Eddy uses only the age at send time). */
  timestamp: number;
  request?: { method: string; status: number; duration_ms: number };
}

export type TrackInput = Omit<EddyEvent, 'id' | 'timestamp'> & { id?: string; timestamp?: number };

export interface EddyClientOptions {
  /** An API key with the events:write scope, from the site's settings in Eddy. */
  apiKey: string;
  /** Eddy's base URL, e.g. https://eddy.example.com. */
  endpoint: string;
  /** Events held in memory at most (queued and awaiting retry together); beyond it new events are dropped and counted. Default 10,000. */
  maxQueue?: number;
  /** Events per request (Eddy accepts at most 25). Default 25. */
  batchSize?: number;
  /** A partial batch waits at most this long. Default 1,000 ms. */
  flushIntervalMs?: number;
  /** Requests in flight at once. Default 2. */
  concurrency?: number;
  /** First retry delay; doubles per attempt up to maxBackoffMs, with jitter. Defaults 500 ms and 30 s. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** One request's timeout. Default 10 s. */
  timeoutMs?: number;
  /** Flush when the process runs out of work (beforeExit). Default true. For SIGTERM, call shutdown() in your handler. */
  flushOnExit?: boolean;
  /** Called (never awaited, errors swallowed) when a batch is refused for good or a send fails. For logs; the SDK itself logs nothing. */
  onError?: (error: Error) => void;
}

export interface EddyClientStats {
  /** Events waiting in memory (queued or awaiting a retry). */
  pending: number;
  /** Events Eddy acknowledged (202). */
  sent: number;
  /** Events dropped because the queue was full (Eddy unreachable or too slow). */
  droppedQueueFull: number;
  /** Events Eddy refused for good (4xx other than 429): invalid, or a revoked key. */
  rejected: number;
  /** Batch sends that failed and were retried. */
  retries: number;
  /** Requests made to Eddy (batches sent, retries included). */
  requests: number;
}

interface Batch {
  events: EddyEvent[];
  attempt: number;
}

export class EddyClient {
  private readonly opts: Required<Omit<EddyClientOptions, 'onError'>> & Pick<EddyClientOptions, 'onError'>;
  private readonly url: URL;
  private readonly agent: http.Agent;
  /** Events, or captures whose event is built only when its batch is sent (off the request's path). */
  private queue: (EddyEvent | (() => EddyEvent | null))[] = [];
  /** Batches waiting for their retry time. */
  private readonly retrying = new Set<Batch>();
  private inFlight = 0;
  private inFlightEvents = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly counters = { sent: 0, droppedQueueFull: 0, rejected: 0, retries: 0, requests: 0 };
  /** Set by flush() until nothing is pending: partial batches go out at once instead of waiting for the interval. */
  private draining = false;

  constructor(options: EddyClientOptions) {
    this.opts = {
      maxQueue: 10_000,
      batchSize: 25,
      flushIntervalMs: 1000,
      concurrency: 2,
      initialBackoffMs: 500,
      maxBackoffMs: 30_000,
      timeoutMs: 10_000,
      flushOnExit: true,
      ...options,
    };
    this.opts.batchSize = Math.min(25, Math.max(1, this.opts.batchSize));
    this.url = new URL('/api/v1/events', options.endpoint);
    const Agent = this.url.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: this.opts.concurrency });
    // Timers are unref'd so the SDK never keeps a process alive on its own; when the process is
    // about to exit for lack of work, one last flush (which is work, so the exit waits for it).
    if (this.opts.flushOnExit) process.once('beforeExit', () => void this.flush());
  }

  /**
   * For adapters: queues a capture whose event is built when its batch is sent, so that work
   * (URL, headers, validation) is not done between a response and the next request. `build`
   * returns null to skip. Never throws.
   */
  capture(build: () => TrackInput | null): boolean {
    if (this.closed || this.pending >= this.opts.maxQueue) {
      this.counters.droppedQueueFull++;
      return false;
    }
    const timestamp = Date.now();
    this.queue.push(() => {
      const input = build();
      return input ? { ...input, id: input.id ?? randomUUID(), timestamp: input.timestamp ?? timestamp } : null;
    });
    this.schedule();
    return true;
  }

  /** Queues an event. Returns at once; never throws. False when it was dropped (queue full or client closed). */
  track(input: TrackInput): boolean {
    try {
      if (!input || typeof input !== 'object' || typeof input.url !== 'string') {
        this.counters.rejected++;
        return false;
      }
      if (this.closed || this.pending >= this.opts.maxQueue) {
        this.counters.droppedQueueFull++;
        return false;
      }
      this.queue.push({ ...input, id: input.id ?? randomUUID(), timestamp: input.timestamp ?? Date.now() });
      this.schedule();
      return true;
    } catch {
      return false;
    }
  }

  private immediate = false;

  private schedule(): void {
    if (this.queue.length >= this.opts.batchSize) {
      if (this.immediate) return;
      this.immediate = true;
      setImmediate(() => {
        this.immediate = false;
        this.pump(false);
      });
    } else this.timer ??= setTimeout(() => this.pump(true), this.opts.flushIntervalMs).unref();
  }

  get pending(): number {
    let n = this.queue.length + this.inFlightEvents;
    for (const b of this.retrying) n += b.events.length;
    return n;
  }

  stats(): EddyClientStats {
    return { pending: this.pending, ...this.counters };
  }

  /** Sends everything queued now; resolves when nothing is pending or `timeoutMs` passed (retries keep going in the background). */
  async flush(timeoutMs = 10_000): Promise<void> {
    this.draining = true;
    this.pump(true);
    if (this.pending === 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }

  /** Flushes (up to `timeoutMs`), then stops: later track() calls are dropped. Call it from your shutdown handler. */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    await this.flush(timeoutMs);
    this.closed = true;
    clearTimeout(this.timer);
    this.agent.destroy();
  }

  /**
   * Starts as many batches as concurrency allows. Only full batches unless `partial` (the flush
   * interval passed, or flush() is draining): sending every few events as soon as a connection
   * is free would multiply the requests, and their cost lands on the customer's process.
   */
  private pump(partial: boolean): void {
    // The interval timer is only reset when a partial batch may go: otherwise every finished send
    // would push the oldest queued event's deadline back.
    if (partial) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (
      this.inFlight < this.opts.concurrency &&
      this.queue.length > 0 &&
      (partial || this.draining || this.queue.length >= this.opts.batchSize)
    ) {
      const events: EddyEvent[] = [];
      for (const item of this.queue.splice(0, this.opts.batchSize)) {
        try {
          const e = typeof item === 'function' ? item() : item;
          if (e) events.push(e);
        } catch {
          this.counters.rejected++;
        }
      }
      if (events.length) void this.send({ events, attempt: 0 });
    }
    if (this.queue.length === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    } else this.timer ??= setTimeout(() => this.pump(true), this.opts.flushIntervalMs).unref();
    this.notifyIfIdle();
  }

  private async send(batch: Batch): Promise<void> {
    this.inFlight++;
    this.inFlightEvents += batch.events.length;
    this.counters.requests++;
    let outcome: 'ok' | 'retry' | 'reject' | 'split';
    try {
      const status = await this.post({ sent_at: Date.now(), events: batch.events });
      outcome = status === 202 ? 'ok' : status === 429 || status === 408 || status >= 500 ? 'retry' : 'reject';
      // Eddy refuses a whole batch for one invalid event (a hand-made track() call): halve it
      // and send both halves, so the valid events still arrive and only the bad one is dropped.
      if (status === 400 && batch.events.length > 1) outcome = 'split';
      if (outcome === 'retry' || outcome === 'reject')
        this.report(
          new Error(
            `Eddy answered ${status}${outcome === 'reject' ? `; ${batch.events.length} event(s) dropped` : '; will retry'}`,
          ),
        );
    } catch (e) {
      outcome = 'retry';
      this.report(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.inFlight--;
      this.inFlightEvents -= batch.events.length;
    }
    if (outcome === 'ok') this.counters.sent += batch.events.length;
    else if (outcome === 'reject') this.counters.rejected += batch.events.length;
    else if (outcome === 'split') {
      const half = Math.ceil(batch.events.length / 2);
      void this.send({ events: batch.events.slice(0, half), attempt: batch.attempt });
      void this.send({ events: batch.events.slice(half), attempt: batch.attempt });
    } else this.scheduleRetry(batch);
    this.pump(false);
  }

  private scheduleRetry(batch: Batch): void {
    if (this.closed) {
      this.counters.droppedQueueFull += batch.events.length;
      return;
    }
    this.counters.retries++;
    const base = Math.min(this.opts.maxBackoffMs, this.opts.initialBackoffMs * 2 ** batch.attempt);
    const delay = base / 2 + Math.random() * (base / 2); // jitter: many processes do not retry in step
    const next: Batch = { events: batch.events, attempt: batch.attempt + 1 };
    this.retrying.add(next);
    setTimeout(() => {
      this.retrying.delete(next);
      void this.send(next);
    }, delay).unref();
  }

  private post(body: unknown): Promise<number> {
    const payload = JSON.stringify(body);
    const lib = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: this.opts.timeoutMs,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            authorization: `Bearer ${this.opts.apiKey}`,
          },
        },
        (res) => {
          res.resume(); // drain, so the connection goes back to the keep-alive pool
          res.once('end', () => resolve(res.statusCode ?? 0));
          res.once('error', reject);
        },
      );
      req.once('timeout', () => req.destroy(new Error(`Eddy did not answer within ${this.opts.timeoutMs} ms`)));
      req.once('error', reject);
      req.end(payload);
    });
  }

  private report(error: Error): void {
    try {
      this.opts.onError?.(error);
    } catch {
      // a failing error hook must not break sending
    }
  }

  private notifyIfIdle(): void {
    if (this.pending !== 0) return;
    this.draining = false;
    if (this.idleWaiters.length === 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
