// A customer's trivial Express app for `bench sdk-overhead`: one handler answering "ok", with
// @eddy/node's middleware in front when started with --eddy <endpoint>. Prints its port.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { eddy } from '../../packages/node/src/index';

const i = process.argv.indexOf('--eddy');
const endpoint = i > 0 ? process.argv[i + 1] : undefined;
const app = express();
app.disable('x-powered-by');
const mw = endpoint ? eddy({ apiKey: `eddy_${'b'.repeat(43)}`, endpoint, trustProxy: true }) : undefined;
if (mw) app.use(mw);
// Asked by the bench: this process's CPU time so far (µs), and the SDK's counters.
process.on('message', () => {
  const cpu = process.cpuUsage();
  process.send?.({ cpuUs: cpu.user + cpu.system, stats: mw?.client.stats() ?? null });
});
app.get('/items/:id', (_req, res) => void res.send('ok'));
const server = http.createServer(app);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
