import { uuid } from './uuid';

// Eddy's tracker, embedded as <script defer src="https://<eddy-host>/t.js" data-site="KEY"></script>.
// Cookieless: it stores nothing and sends no identifiers; the server derives a daily visitor hash.
// Bodies are text/plain strings, a CORS "simple" request, so there is no preflight round trip.
// The wire format is lib/collect/payload.ts. Size budget: 1,400 bytes after gzip -9 (tracker/size.test.ts).

type Props = Record<string, string | number | boolean>;
/** One event on the wire (lib/collect/payload.ts, collectEventSchema). */
interface Wire {
  s: string;
  n: string;
  u: string;
  i: string;
  t: number;
  c?: number;
  r?: string;
  p?: Props;
  e?: { v: number; d: number };
}
type Eddy = ((name: string, props?: Props) => void) & { q?: IArguments[] };
type HistoryMethod = 'pushState' | 'replaceState';

const DOWNLOAD =
  /\.(pdf|zip|dmg|exe|msi|pkg|apk|iso|csv|xlsx?|docx?|pptx?|rtf|txt|epub|mp[34]|mov|avi|wav|rar|7z|t?gz|tar)$/i;
/** Retries after a network error or a 502/503/504 (status > 501): after 1 s, 2 s, 4 s, same event id. */
const RETRIES = 3;
/**
 * The endpoint rejects (400) URLs over 2000 characters and prop values over 256 bytes; clipping
 * keeps the event. The strings clipped are serialised URLs, percent-encoded ASCII, so chars = bytes.
 */
const clip = (s: string, max = 2000) => s.slice(0, max);

// Top-level code: the build wraps it in an IIFE, so these short aliases minify to one letter.
const w = window as Window & { eddy?: Eddy };
const d = document;
const l = location;
const h = history;
const script = (d.currentScript || d.querySelector('script[data-site]')) as HTMLScriptElement | null;
if (script) {
  // data-site, data-api, data-hash, data-respect-dnt, data-allow-localhost, data-404.
  const data = script.dataset;
  const site = data.site;
  // Relative data-api (a first-party proxy path) resolves against the page, as fetch does.
  const api = data.api || new URL('/api/collect', script.src).href;
  const hashRouting = 'hash' in data;
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  // Off: no site key, the visitor asked not to be tracked (DNT/GPC, unless the site opted out of
  // honouring it), or a developer machine (file: has an empty hostname) unless explicitly allowed.
  const off =
    !site ||
    (data.respectDnt != 'false' && (nav.doNotTrack == '1' || nav.globalPrivacyControl)) ||
    (!('allowLocalhost' in data) && /^(localhost|127\.0\.0\.1|\[::1\]|)$/.test(l.hostname));
  const now = Date.now;

  /** The current page view's URL: also its identity (path + search, + hash with data-hash). */
  let url = '';
  /** When the page last became visible (0 while hidden or gone). */
  let since = 0;
  /** Max scroll depth % of this page view, and the depth last sent. */
  let depth = 0;
  let sentDepth = 0;

  const post = (ev: Wire, attempt: number) => {
    ev.c = now();
    const retry = () => attempt < RETRIES && setTimeout(post, 1e3 << attempt, ev, attempt + 1);
    // keepalive lets a send survive navigation away (outbound clicks, engagement on pagehide).
    fetch(api, { method: 'POST', body: JSON.stringify(ev), keepalive: true }).then(
      (r) => r.status > 501 && retry(),
      retry,
    );
  };
  const send = (n: string, x?: Partial<Wire>) => {
    if (!off) post({ s: site!, n, u: url, i: uuid(), t: now(), ...x }, 0);
  };

  const here = () => clip(hashRouting ? l.href : l.href.split('#')[0]!);
  const measure = () => {
    depth = Math.max(
      depth,
      Math.min(100, (((w.scrollY + w.innerHeight) / d.documentElement.scrollHeight) * 100 + 0.5) | 0),
    );
  };
  // Visible time since the last engagement send, and the depth; nothing when neither is new.
  // Depth is re-measured only if the page was seen: a tab opened in the background and closed
  // unseen reports nothing.
  const engagement = () => {
    const v = since && now() - since;
    if (v) measure();
    if (v || depth > sentDepth) send('engagement', { e: { v: Math.min(v, 864e5), d: depth } });
    sentDepth = depth;
    since = 0;
  };
  const pageview = (referrer: string) => {
    url = here();
    // Depth starts at 0 and is measured on scroll and when sent, not now: a deferred script runs
    // before images and late content give the page its final height.
    depth = sentDepth = 0;
    since = d.hidden ? 0 : now();
    send('pageview', { r: /^https?:/.test(referrer) ? clip(referrer) : '' });
  };
  // An SPA navigation: the previous page view's engagement, then a pageview whose referrer is
  // the previous page, as a multi-page site would report it.
  const navigated = () => {
    if (here() != url) {
      engagement();
      pageview(url);
    }
  };
  const hook = (m: HistoryMethod) => {
    const original = h[m];
    h[m] = function (this: History, ...a: Parameters<History[HistoryMethod]>) {
      original.apply(this, a);
      navigated();
    };
  };

  const click = (e: MouseEvent) => {
    const target = e.target as Element;
    if (!target.closest || e.button > 1) return;
    const tagged = target.closest('[data-eddy-event]');
    if (tagged) {
      const p: Props = {};
      for (const a of tagged.attributes) {
        const m = /^data-eddy-prop-(.+)/.exec(a.name);
        if (m) p[m[1]!] = a.value;
      }
      send(tagged.getAttribute('data-eddy-event')!, { p });
    }
    const a = target.closest('a');
    if (a && /^http/.test(a.protocol)) {
      const p = { url: clip(a.href, 256) };
      if (DOWNLOAD.test(a.pathname) || a.hasAttribute('download')) send('download', { p });
      else if (a.hostname != l.hostname) send('outbound', { p });
    }
  };

  const start = () => {
    const queued = w.eddy?.q;
    w.eddy = (n, p) => send(n, { p });
    pageview(d.referrer);
    if ('404' in data) send('404', { p: { path: clip(l.pathname, 256) } });
    queued?.forEach((a) => w.eddy!(...(a as unknown as [string, Props?])));

    hook('pushState');
    hook('replaceState');
    w.addEventListener('popstate', navigated);
    if (hashRouting) w.addEventListener('hashchange', navigated);
    // Restored from the back-forward cache: the document never reloads, so count it here.
    w.addEventListener('pageshow', (e) => e.persisted && pageview(d.referrer));
    w.addEventListener('pagehide', engagement);
    d.addEventListener('visibilitychange', () => (d.hidden ? engagement() : (since = now())));
    w.addEventListener('scroll', measure);
    // Capture, so a site handler that stops propagation does not hide the click.
    d.addEventListener('click', click, true);
    d.addEventListener('auxclick', click, true);
  };
  // A prerendered page (speculation rules) may never be seen: wait until it is activated.
  if ((d as Document & { prerendering?: boolean }).prerendering)
    d.addEventListener('prerenderingchange', start, { once: true });
  else start();
}
