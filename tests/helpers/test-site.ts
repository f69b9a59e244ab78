import { createServer, type Server } from 'node:http';
import { freePort } from './stack';

// A customer's multi-page website on its own local origin with Eddy's snippet pasted into every
// page, for the tracker's browser tests. One instance per script-tag variant (data-hash,
// data-respect-dnt, …), so each test's events carry their own origin in `url`.

export interface TestSite {
  url: string;
  close(): Promise<void>;
}

export interface TestSiteOptions {
  /** Eddy's tracker URL, e.g. `${stack.url}/t.js`. */
  tracker: string;
  /** The site's public key (data-site). */
  siteKey: string;
  /** Extra attributes on the script tag, e.g. 'data-allow-localhost data-hash'. */
  attrs?: string;
}

/** The stub a site may paste before the tracker so that eddy() calls made earlier are queued. */
export const QUEUE_STUB = 'window.eddy=window.eddy||function(){(eddy.q=eddy.q||[]).push(arguments)}';

// A minimal SPA router: links marked data-spa navigate with pushState and render the path.
const SPA_ROUTER = `
const render = () => { document.querySelector('#view').textContent = 'View: ' + location.pathname + location.search + location.hash; };
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-spa]');
  if (!a) return;
  e.preventDefault();
  history.pushState({}, '', a.getAttribute('href'));
  render();
});
document.querySelector('#same').addEventListener('click', () => history.replaceState({ scroll: 1 }, '', location.href));
document.querySelector('#search').addEventListener('click', () => { history.pushState({}, '', '/app/products?sort=price'); render(); });
window.addEventListener('popstate', render);
window.addEventListener('hashchange', render);
render();`;

export async function startTestSite(opts: TestSiteOptions): Promise<TestSite> {
  const port = await freePort();
  const snippet = `<script defer src="${opts.tracker}" data-site="${opts.siteKey}" ${opts.attrs ?? ''}></script>`;
  const page = (title: string, body: string, head = snippet) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · Test shop</title>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem;color:#1f2937}a,button{display:inline-block;margin:.25rem .5rem .25rem 0;font:inherit}nav{margin-bottom:1rem}</style>` +
    `${head}</head><body><h1>${title}</h1>${body}</body></html>`;

  const routes: Record<
    string,
    () => { status?: number; type?: string; headers?: Record<string, string>; body: string }
  > = {
    '/': () => ({
      body: page(
        'Home',
        `<nav><a href="/about">About</a><a href="/app">App</a><a href="/long">Long read</a></nav><p>Welcome to the test shop.</p>`,
      ),
    }),
    '/about': () => ({ body: page('About', `<p>About the test shop.</p><a href="/">Home</a>`) }),
    // A single-page app: pushState links, a same-URL replaceState, a search change and a hash link.
    '/app': () => ({
      body: page(
        'App',
        `<nav><a data-spa href="/app/pricing">Pricing</a><a data-spa href="/app/docs">Docs</a><a href="#faq">FAQ (hash)</a>` +
          `<button id="same">replaceState, same URL</button><button id="search">Sort by price</button></nav><p id="view"></p>` +
          `<script>${SPA_ROUTER}</script>`,
      ),
    }),
    // Links that leave: another hostname, and downloads by extension and by the download attribute.
    '/links': () => ({
      body: page(
        'Links',
        `<p><a id="outbound" href="https://partner.example/landing?ref=shop">Our partner</a></p>` +
          `<p><a id="download" href="/files/price-list.pdf">Price list (PDF)</a> <a id="download-attr" href="/files/export?format=raw" download>Export</a></p>` +
          `<p><a id="internal" href="/about">About (internal)</a> <a id="mail" href="mailto:shop@example.test">Mail us</a></p>`,
      ),
    }),
    // Tagged elements: the tracker reads data-eddy-event and data-eddy-prop-*.
    '/pricing': () => ({
      body: page(
        'Pricing',
        `<button id="signup" data-eddy-event="signup" data-eddy-prop-plan="pro" data-eddy-prop-billing-cycle="yearly"><span>Start the <b>Pro</b> trial</span></button>` +
          `<button id="plain">No tracking here</button>`,
      ),
    }),
    // Calls made before the tracker loaded: the stub queues them, the tracker drains them in order.
    '/queued': () => ({
      body: page(
        'Queued',
        `<p>Two events were queued before the tracker loaded.</p>`,
        `<script>${QUEUE_STUB};eddy('cart_viewed',{items:3,currency:'EUR'});eddy('coupon_applied',{code:'SPRING',valid:true});</script>${snippet}`,
      ),
    }),
    '/long': () => ({
      body: page(
        'Long read',
        Array.from({ length: 60 }, (_, i) => `<p style="height:80px">Paragraph ${i + 1} of a long article.</p>`).join(
          '',
        ) + `<p id="end">The end.</p>`,
      ),
    }),
    '/files/price-list.pdf': () => ({
      type: 'application/pdf',
      headers: { 'content-disposition': 'attachment; filename="price-list.pdf"' },
      body: '%PDF-1.4\n%%EOF\n',
    }),
    '/files/export': () => ({
      type: 'application/octet-stream',
      headers: { 'content-disposition': 'attachment; filename="export.bin"' },
      body: 'raw',
    }),
  };

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes[path] ?? (path.startsWith('/app/') ? routes['/app'] : undefined);
    // Unknown paths: the site's 404 page, whose snippet opts in to 404 tracking with data-404.
    const r = route
      ? route()
      : {
          status: 404,
          body: page(
            'Page not found',
            `<p>No page at this address.</p><a href="/">Home</a>`,
            snippet.replace('<script ', '<script data-404 '),
          ),
        };
    res.writeHead(r.status ?? 200, { 'content-type': r.type ?? 'text/html; charset=utf-8', ...r.headers });
    res.end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
