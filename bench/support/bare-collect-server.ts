import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import { closeBus } from '@/lib/bus';
import { resolveClientIp } from '@/lib/collect/client-ip';
import { ingest, ingestionLedger, MAX_BODY_BYTES } from '@/lib/collect/ingest';
import { closeDb } from '@/lib/db/client';
import { env } from '@/lib/env';
import { EddyError, isEddyError } from '@/lib/errors';

// The baseline of the collect benchmark: POST /api/collect on a bare node:http server, calling
// the very same ingest() as app/api/collect/route.ts, with the same body cap (content-length
// check, streamed cap, capped decompression, strict UTF-8), the same client-IP resolution as
// server/index.ts and the same status codes and CORS headers. No Next.js, no Socket.IO: what
// is left is the cost of Eddy's own collect code. Run: node --import tsx bench/support/bare-collect-server.ts

const cors = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '86400',
};

/** lib/http/read-body.ts's readBodyCapped, for a node:http request instead of a fetch Request. */
async function readBodyCapped(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw new EddyError('payload_too_large', `Body over ${maxBytes} bytes`);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (!['identity', 'gzip', 'deflate'].includes(encoding)) throw new EddyError('unsupported_media_type', `Content-Encoding ${encoding} is not supported`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      req.destroy();
      throw new EddyError('payload_too_large', `Body over ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  let raw = Buffer.concat(chunks);
  if (encoding !== 'identity') {
    try {
      raw = encoding === 'gzip' ? gunzipSync(raw, { maxOutputLength: maxBytes }) : inflateSync(raw, { maxOutputLength: maxBytes });
    } catch (e) {
      if (e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new EddyError('payload_too_large', `Decompressed body over ${maxBytes} bytes`);
      throw new EddyError('bad_request', `Body is not valid ${encoding}`);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new EddyError('bad_request', 'Body is not valid UTF-8');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...cors, ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function collect(req: IncomingMessage, res: ServerResponse, ip: string): Promise<void> {
  try {
    const body = await readBodyCapped(req, MAX_BODY_BYTES);
    const countryHeader = env().TRUSTED_COUNTRY_HEADER;
    const country = countryHeader ? req.headers[countryHeader] : undefined;
    await ingest({
      body,
      ip,
      userAgent: req.headers['user-agent'] ?? '',
      countryHeader: typeof country === 'string' ? country : null,
      now: Date.now(),
    });
    sendJson(res, 202, { ok: true });
  } catch (e) {
    if (isEddyError(e)) {
      sendJson(res, e.status, { error: { code: e.code, message: e.message } }, e.retryAfter ? { 'Retry-After': String(e.retryAfter) } : {});
    } else {
      console.error('[bare] unexpected error', e);
      sendJson(res, 500, { error: { code: 'internal', message: 'Internal error' } });
    }
  }
}

const e = env();
const server = createServer((req, res) => {
  const ip = resolveClientIp(req.headers, req.socket.remoteAddress, e.TRUSTED_PROXY_HEADER);
  const url = req.url ?? '/';
  if (url === '/api/collect' || url.startsWith('/api/collect?')) {
    if (req.method === 'POST') return void collect(req, res, ip);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return void res.end();
    }
  }
  sendJson(res, 404, { error: { code: 'not_found', message: 'Not found' } });
});
server.listen(e.PORT, e.HOST, () => console.log(`[bare] listening on http://${e.HOST}:${e.PORT}`));

const shutdown = async () => {
  server.close();
  server.closeAllConnections();
  await ingestionLedger().flush().catch(() => undefined);
  await closeBus();
  await closeDb();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
