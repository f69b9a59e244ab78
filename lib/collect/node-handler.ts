import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerCollect } from './endpoint';

// The collect endpoint on plain node:http, answered by server/index.ts before Next.js sees the
// request (COLLECT_VIA=edge, the default): a shim over lib/collect/endpoint.ts, which the Next.js
// route (app/api/collect) shares. bench/collect.ts measured ~1.1 ms of CPU per request in
// Next.js' own request machinery, which capped the route at well under the 3,000 events/s a
// 2-core machine can otherwise take.

export function isCollectPath(url: string | undefined): boolean {
  return url === '/api/collect' || (url?.startsWith('/api/collect?') ?? false);
}

/** Any method on /api/collect. `ip` was resolved by the caller from the socket or the trusted proxy header. */
export async function handleCollect(req: IncomingMessage, res: ServerResponse, ip: string): Promise<void> {
  const reply = await answerCollect({
    method: req.method ?? '',
    header: (name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    },
    body: {
      contentLength: req.headers['content-length'],
      contentEncoding: req.headers['content-encoding'],
      chunks: req,
    },
    ip,
    aborted: () => req.destroyed,
  });
  if (!reply) return;
  if (reply.closeConnection) res.setHeader('Connection', 'close');
  if (reply.body === undefined) {
    res.writeHead(reply.status, reply.headers);
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...reply.headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
