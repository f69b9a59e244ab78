import { env } from '../env';
import { isEddyError } from '../errors';
import { readSourceCapped, type BodySource } from '../http/read-body';
import { errorReply, type Reply } from '../http/respond';
import { ingest, MAX_BODY_BYTES } from './ingest';
import { MINUTE } from '@/lib/time';

// The collect endpoint, whatever carries it: POST/OPTIONS /api/collect is answered here, and the
// two transports are shims that only translate a request in and a Reply out —
// lib/collect/node-handler.ts (plain node:http, COLLECT_VIA=edge) and app/api/collect/route.ts
// (Next.js, COLLECT_VIA=next or `next start`). One CORS constant, one body reader, one error
// mapping (lib/http/respond.ts), one ingest input: the two cannot drift apart.

// Any site may post here; no credentials, and the session cookie is never read.
export const COLLECT_CORS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '86400',
};

/** A collect request as a transport hands it over. */
export interface CollectRequest {
  method: string;
  /** A request header by its lower-case name. */
  header(name: string): string | undefined;
  body: BodySource;
  /** Resolved by the transport from the socket or the trusted proxy header, never from the payload. */
  ip: string;
  /** The client closed the connection (then nobody is left to answer). */
  aborted(): boolean;
}

export interface CollectReply extends Reply {
  /** The body was not read to its end: the connection cannot carry another request. */
  closeConnection?: boolean;
}

/** Answers one collect request; null when the client went away and nobody is left to answer. */
export async function answerCollect(req: CollectRequest, clock: () => number = Date.now): Promise<CollectReply | null> {
  // The tracker sends text/plain and needs no preflight; a page's own fetch may.
  if (req.method === 'OPTIONS') return { status: 204, headers: { ...COLLECT_CORS } };
  if (req.method !== 'POST') {
    return {
      status: 405,
      headers: { ...COLLECT_CORS, Allow: 'POST, OPTIONS' },
      body: { error: { code: 'bad_request', message: 'Use POST' } },
    };
  }
  try {
    const body = await readSourceCapped(req.body, MAX_BODY_BYTES);
    const countryHeader = env().TRUSTED_COUNTRY_HEADER;
    await ingest({
      body,
      ip: req.ip,
      userAgent: req.header('user-agent') ?? '',
      countryHeader: countryHeader ? (req.header(countryHeader.toLowerCase()) ?? null) : null,
      now: clock(),
    });
    // Same answer whether events were accepted or dropped on purpose: bots learn nothing.
    return { status: 202, headers: { ...COLLECT_CORS }, body: { ok: true } };
  } catch (e) {
    if (!isEddyError(e) && clientWentAway(req, e)) {
      // A client can abort as often as it likes: one log line a minute with the count, never a
      // stack per request (issue 13: log flooding).
      abortedUploads.add();
      return null;
    }
    const reply: CollectReply = errorReply(e, COLLECT_CORS);
    // The rest of an oversized body is never read.
    if (reply.status === 413) reply.closeConnection = true;
    return reply;
  }
}

/** The upload ended because the client closed the connection, not because of anything here. */
function clientWentAway(req: CollectRequest, e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (
    req.aborted() || code === 'ECONNRESET' || code === 'ECONNABORTED' || (e instanceof Error && e.message === 'aborted')
  );
}

/** Counts an event and logs the count at most once per interval. */
class RateLimitedLog {
  private count = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly message: (n: number) => string,
    private readonly intervalMs = MINUTE,
    private readonly log: (line: string) => void = (line) => console.warn(line),
  ) {}

  add(): void {
    this.count++;
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
    this.timer.unref?.();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count === 0) return;
    const n = this.count;
    this.count = 0;
    this.log(this.message(n));
  }
}

const abortedUploads = new RateLimitedLog((n) => `[collect] ${n} upload(s) aborted by the client in the last minute`);
