import type { IncomingMessage, ServerResponse } from 'node:http';
import { env } from '../env';
import { EddyError, isEddyError } from '../errors';
import { decodeBody } from '../http/read-body';
import { ingest, MAX_BODY_BYTES } from './ingest';

// The collect endpoint on plain node:http, answered by server/index.ts before Next.js sees the
// request (COLLECT_VIA=edge, the default). Same ingest(), limits, status codes and CORS as the
// Next.js route handler in app/api/collect (used with COLLECT_VIA=next or under `next start`):
// bench/collect.ts measured ~1.1 ms of CPU per request in Next.js' own request machinery, which
// capped the route at well under the 3,000 events/s a 2-core machine can otherwise take.

export const collectCors = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '86400',
};

export function isCollectPath(url: string | undefined): boolean {
  return url === '/api/collect' || (url?.startsWith('/api/collect?') ?? false);
}

/** Reads the body with the same caps as lib/http/read-body.ts (which serves fetch Requests). */
async function readBodyCapped(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw new EddyError('payload_too_large', `Body over ${maxBytes} bytes`);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (!['identity', 'gzip', 'deflate'].includes(encoding)) throw new EddyError('unsupported_media_type', `Content-Encoding ${encoding} is not supported`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new EddyError('payload_too_large', `Body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return decodeBody(Buffer.concat(chunks), encoding, maxBytes);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...collectCors, ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** POST/OPTIONS /api/collect. `ip` was resolved by the caller from the socket or the trusted proxy header. */
export async function handleCollect(req: IncomingMessage, res: ServerResponse, ip: string): Promise<void> {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, collectCors);
    res.end();
    return;
  }
  if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'bad_request', message: 'Use POST' } }, { Allow: 'POST, OPTIONS' });
  try {
    const body = await readBodyCapped(req, MAX_BODY_BYTES);
    const countryHeader = env().TRUSTED_COUNTRY_HEADER;
    const country = countryHeader ? req.headers[countryHeader] : undefined;
    await ingest({ body, ip, userAgent: req.headers['user-agent'] ?? '', countryHeader: typeof country === 'string' ? country : null, now: Date.now() });
    // Same answer whether events were accepted or dropped on purpose: bots learn nothing.
    sendJson(res, 202, { ok: true });
  } catch (e) {
    if (isEddyError(e)) {
      if (e.code === 'payload_too_large') res.setHeader('Connection', 'close'); // the rest of the body is not read
      sendJson(res, e.status, { error: { code: e.code, message: e.message } }, e.retryAfter ? { 'Retry-After': String(e.retryAfter) } : {});
    } else if (clientWentAway(req, e)) {
      // Nobody is left to answer, and a client can abort as often as it likes: one log line a
      // minute with the count, never a stack per request (issue 13: log flooding).
      abortedUploads.add();
    } else {
      console.error('[collect] unexpected error', e);
      sendJson(res, 500, { error: { code: 'internal', message: 'Internal error' } });
    }
  }
}

/** The upload ended because the client closed the connection, not because of anything here. */
function clientWentAway(req: IncomingMessage, e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return req.destroyed || code === 'ECONNRESET' || code === 'ECONNABORTED' || (e instanceof Error && e.message === 'aborted');
}

/** Counts an event and logs the count at most once per interval. */
export class RateLimitedLog {
  private count = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly message: (n: number) => string,
    private readonly intervalMs = 60_000,
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
