import { createServer } from 'node:http';
import { closeBus } from '@/lib/bus';
import { resolveClientIp } from '@/lib/collect/client-ip';
import { ingestionLedger } from '@/lib/collect/ingest';
import { handleCollect, isCollectPath } from '@/lib/collect/node-handler';
import { closeDb } from '@/lib/db/client';
import { env } from '@/lib/env';

// The baseline of the collect benchmark: POST /api/collect on a bare node:http server and
// nothing else — no Next.js, no Socket.IO, no live relay — calling the same handler
// (lib/collect/node-handler.ts → ingest()) that the web process answers with before Next.js.

const e = env();
const server = createServer((req, res) => {
  const ip = resolveClientIp(req.headers, req.socket.remoteAddress, e.TRUSTED_PROXY_HEADER);
  if (isCollectPath(req.url)) return void handleCollect(req, res, ip);
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: { code: 'not_found', message: 'Not found' } }));
});
server.listen(e.PORT, e.HOST, () => console.log(`[bare] listening on http://${e.HOST}:${e.PORT}`));

const shutdown = async () => {
  server.close();
  server.closeAllConnections();
  await ingestionLedger()
    .flush()
    .catch(() => undefined);
  await closeBus();
  await closeDb();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
