import { readFileSync } from 'node:fs';
import http from 'node:http';
import express from 'express';
import { eddy } from '../packages/node/src/index';
import { db, closeDb } from '@/lib/db/client';
import { DEMO_EMAIL } from '@/lib/accounts/create-demo-account';
import { env, publicUrl } from '@/lib/env';
import { dataPath } from './services/util';

// The seed's interceptor in the loop: a small shop's Express server that `npm start` runs beside
// Eddy (EDDY_DEMO), with @eddy/node's middleware in front. Its pages also carry Eddy's tracker,
// so one visit shows on the demo site's dashboard twice, as it should: a pageview from the
// browser, and server requests (the page, its API calls) in the "Server requests" card.
// The key is the demo site's events:write key the launcher keeps in EDDY_DATA_DIR.

async function main(): Promise<void> {
  const e = env();
  const apiKey = readFileSync(dataPath(e.EDDY_DATA_DIR, 'demo-api-key'), 'utf8').trim();
  const site = await db().site.findFirst({
    where: { team: { memberships: { some: { user: { email: DEMO_EMAIL } } } } },
    orderBy: { createdAt: 'asc' },
  });
  await closeDb();
  if (!site) throw new Error('no demo site');
  const eddyUrl = publicUrl();

  const app = express();
  app.disable('x-powered-by');
  // The demo is visited from this machine: loopback must count here (it is skipped by default).
  const analytics = eddy({
    apiKey,
    endpoint: eddyUrl,
    skipLocalhost: false,
    onError: (err) => console.warn(`[demo-server] eddy: ${err.message}`),
  });
  app.use(analytics);

  const page = (title: string, body: string) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · Demo shop</title>` +
    `<script defer src="${eddyUrl}/t.js" data-site="${site.publicKey}" data-allow-localhost></script>` +
    `<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem;max-width:40rem;color:#1f2937}a{margin-right:.75rem}</style></head>` +
    `<body><nav><a href="/">Home</a><a href="/products">Products</a><a href="/products/2">Product 2</a><a href="/missing">A broken link</a></nav><h1>${title}</h1>${body}` +
    `<p><button onclick="fetch('/api/cart',{method:'POST'}).then(r=>r.json()).then(j=>document.querySelector('#cart').textContent=j.items)">Add to cart (an API call)</button> Cart: <span id="cart">0</span></p>` +
    `<p style="color:#64748b;font-size:14px">Every request this server answers is reported by <code>@eddy/node</code>; the page view is reported by Eddy's browser tracker. Both appear on the <a href="${eddyUrl}/sites/${site.id}">Demo site's dashboard</a>.</p></body></html>`;

  let cart = 0;
  app.get(
    '/',
    (_req, res) =>
      void res.send(
        page('Demo shop', '<p>A server-rendered shop, instrumented with <code>app.use(eddy(…))</code>.</p>'),
      ),
  );
  app.get(
    '/products',
    (_req, res) =>
      void res.send(
        page(
          'Products',
          '<ul><li><a href="/products/1">Product 1</a></li><li><a href="/products/2">Product 2</a></li></ul>',
        ),
      ),
  );
  app.get(
    '/products/:id',
    (req, res) => void res.send(page(`Product ${Number(req.params.id) || 1}`, '<p>Fine goods.</p>')),
  );
  app.post('/api/cart', (_req, res) => void res.json({ items: ++cart }));
  app.use(
    (_req, res) =>
      void res.status(404).send(page('Not found', '<p>This page does not exist (a 404 on the dashboard).</p>')),
  );

  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(e.DEMO_SERVER_PORT, e.HOST, resolve));
  console.log(`[demo-server] listening on http://localhost:${e.DEMO_SERVER_PORT} (requests reported to ${eddyUrl})`);

  const shutdown = async () => {
    server.close();
    await analytics.client.shutdown(5000);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((err: unknown) => {
  console.error(`[demo-server] ${(err as Error).message}`);
  process.exit(1);
});
