import { createServer } from 'node:http';
import path from 'node:path';
import next from 'next';
import { Server } from 'socket.io';
import { bus } from '@/lib/bus';
import { CLIENT_IP_HEADER, resolveClientIp } from '@/lib/collect/client-ip';
import { handleCollect, isCollectPath } from '@/lib/collect/node-handler';
import { closeDb } from '@/lib/db/client';
import { closeColumnar, columnarStore } from '@/lib/analytics/columnar/engine';
import { env, publicUrl } from '@/lib/env';
import { isEddyError } from '@/lib/errors';
import { SECURITY_HEADERS } from '@/lib/http/security-headers.mjs';
import { startLiveRelayWhenReady } from './live-relay';
import { attachLiveSockets } from './live-sockets';

// The web process: Next.js (pages + route handlers) and Socket.IO on one HTTP server.
// NODE_ENV=development (`npm run dev`) runs Next.js' dev server: pages compile on request and
// change in the browser as you save (Fast Refresh over the /_next/hmr WebSocket, which Next.js
// answers on this server's upgrade event beside Socket.IO). Otherwise it serves the production
// build (`npm run build`; `npm start` builds when stale).

async function main(): Promise<void> {
  const e = env();
  const dev = e.NODE_ENV === 'development';
  const app = next({ dev, dir: path.resolve(import.meta.dirname, '..'), hostname: e.HOST, port: e.PORT });
  const handle = app.getRequestHandler();
  await app.prepare();

  const server = createServer((req, res) => {
    // Resolved here, once, from the connection or the trusted proxy header; any client-sent value is overwritten.
    const ip = resolveClientIp(req.headers, req.socket.remoteAddress, e.TRUSTED_PROXY_HEADER);
    // The hot path skips Next.js' request machinery (see lib/collect/node-handler.ts), and so
    // next.config.mjs' headers: the same security headers, set here (CORS is unaffected).
    if (e.COLLECT_VIA === 'edge' && isCollectPath(req.url)) {
      for (const h of SECURITY_HEADERS) res.setHeader(h.key, h.value);
      return void handleCollect(req, res, ip);
    }
    req.headers[CLIENT_IP_HEADER] = ip;
    void handle(req, res);
  });
  const io = new Server(server, { serveClient: false });
  attachLiveSockets(io);

  // Topics are created by the launcher and the workers; the web process must start (and answer
  // 503 on collect) even while the bus is down. One bus per process: the relay consumes through
  // the same client collect produces through (lib/bus `bus()`), so shutdown closes the one.
  const b = bus();
  startLiveRelayWhenReady(io, b, (err) => {
    console.error(`[web] live relay crashed: ${err.message}`);
    process.exit(1);
  });

  // The columnar copy of the filter facts loads in the background; filtered views read PostgreSQL until it is ready.
  void columnarStore()
    ?.start()
    .then(() => {
      const s = columnarStore()?.stats;
      if (s?.ready)
        console.log(
          `[web] columnar copy ready in ${s.loadMs} ms (${s.loaded?.events ?? 0} event facts, ${s.loaded?.visits ?? 0} visit facts)`,
        );
    });

  await new Promise<void>((resolve) => server.listen(e.PORT, e.HOST, resolve));
  console.log(`[web] listening on ${publicUrl()} (bus: ${b.kind})`);

  const shutdown = async () => {
    // Not awaited: io.close() also waits for the HTTP server's keep-alive connections to end.
    io.close().catch(() => undefined);
    server.close();
    await b.close();
    await closeColumnar();
    await closeDb();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((err: unknown) => {
  console.error(isEddyError(err) ? err.message : err);
  process.exit(1);
});
