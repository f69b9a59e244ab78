// Eddy's tracker: embedded as <script defer src="…/t.js" data-site="KEY"></script>.
// Cookieless: it stores nothing and sends no identifiers; the server derives a daily visitor hash.
// text/plain bodies are "simple" CORS requests, so no preflight round trip.
((w: Window, d: Document) => {
  const script = d.currentScript as HTMLScriptElement | null;
  if (!script) return;
  const site = script.getAttribute('data-site');
  const api = script.getAttribute('data-api') || new URL('/api/collect', script.src).href;
  const uuid = (): string =>
    w.crypto.randomUUID
      ? w.crypto.randomUUID()
      : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) => (+c ^ (w.crypto.getRandomValues(new Uint8Array(1))[0]! & (15 >> (+c / 4)))).toString(16));
  const send = (name: string) => {
    void fetch(api, {
      method: 'POST',
      keepalive: true,
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify({ s: site, n: name, u: w.location.href, i: uuid() }),
    }).catch(() => undefined);
  };
  if (site) send('pageview');
})(window, document);
