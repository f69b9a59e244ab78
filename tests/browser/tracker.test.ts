import path from 'node:path';
import pg from 'pg';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { env } from '@/lib/env';
import type { EventRecord } from '@/lib/events/record';
import { VISITOR_UA } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';
import { startTestSite, type TestSite } from '../helpers/test-site';
import { eventually } from '../helpers/wait';

// The tracker (public/t.js, built from tracker/) in Chromium on a customer site served from
// another local origin, against a whole Eddy on the embedded bus. Every assertion reads what
// reached the events topic (bus_messages), field by field, and what the page put on the wire.
// Each test gets its own test-site origin, so its records are told apart by their url.

/** One event as the tracker sends it (lib/collect/payload.ts). */
interface Wire {
  s: string;
  n: string;
  u: string;
  i: string;
  t: number;
  c: number;
  r?: string;
  p?: Record<string, unknown>;
  e?: { v: number; d: number };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let stack: Stack;
let browser: Browser;
let db: pg.Pool;
const sites: TestSite[] = [];

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startStack({ bus: 'embedded', worker: false, label: 'tracker' }),
    chromium.launch({
      executablePath: env().CHROMIUM_PATH,
      // Playwright turns the back-forward cache off by default; the bfcache test needs it.
      ignoreDefaultArgs: ['--disable-back-forward-cache'],
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        // On the command line, not per context: a keepalive request that outlives its page (sent
        // on pagehide) leaves with the browser's own user agent, not a context's override.
        `--user-agent=${VISITOR_UA}`,
      ],
    }),
  ]);
  db = new pg.Pool({ connectionString: stack.db.url, max: 2 });
  // The database is dropped with FORCE at the end; an idle pooled connection must not crash the run.
  db.on('error', () => undefined);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(sites.map((s) => s.close()));
  await db?.end();
  await stack?.stop();
});

/** A fresh customer site (its own origin) whose snippet carries `attrs`. */
async function site(attrs = 'data-allow-localhost'): Promise<TestSite> {
  const s = await startTestSite({ tracker: `${stack.url}/t.js`, siteKey: stack.site.key, attrs });
  sites.push(s);
  return s;
}

interface Visitor {
  context: BrowserContext;
  page: Page;
  /** Bodies of every request to the collect endpoint, in the order the page sent them. */
  sent: Wire[];
  requests: Request[];
  /** Requests that got their answer (or failed): their records, if any, are on the topic. */
  settled: Set<Request>;
  /** Status of every collect response. */
  statuses: number[];
}

async function visitor(opts: { initScript?: string } = {}): Promise<Visitor> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (opts.initScript) await context.addInitScript(opts.initScript);
  const page = await context.newPage();
  const v: Visitor = { context, page, sent: [], requests: [], settled: new Set(), statuses: [] };
  const collect = `${stack.url}/api/collect`;
  context.on('request', (r) => {
    if (r.url() !== collect) return;
    v.requests.push(r);
    const body = r.postData();
    if (body) v.sent.push(JSON.parse(body) as Wire);
  });
  context.on('requestfinished', (r) => v.settled.add(r));
  context.on('requestfailed', (r) => v.settled.add(r));
  context.on('response', async (r) => {
    if (r.url() !== collect) return;
    v.statuses.push(r.status());
    // The server answers 400 with a reason: make a wire-format mismatch loud.
    if (r.status() === 400)
      console.error(
        `[tracker test] collect said 400: ${await r.text().catch(() => '?')} for ${r.request().postData()}`,
      );
  });
  return v;
}

/** Records on the events topic whose page URL is on `origin`, in topic order. */
async function records(origin: string): Promise<EventRecord[]> {
  const r = await db.query<{ r: EventRecord }>(
    `SELECT convert_from(value,'UTF8')::jsonb AS r FROM bus_messages WHERE topic = $1 AND convert_from(value,'UTF8')::jsonb->>'url' LIKE $2 ORDER BY "offset"`,
    [stack.namespace + 'events', `${origin}/%`],
  );
  return r.rows.map((x) => x.r);
}

/** Waits until `check` holds for the records of `origin`, and returns them. */
async function recordsWhen(
  origin: string,
  check: (rs: EventRecord[]) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<EventRecord[]> {
  let last: EventRecord[] = [];
  await eventually(
    async () => {
      last = await records(origin);
      return check(last);
    },
    timeoutMs,
    what,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; records: ${JSON.stringify(last.map((r) => [r.name, r.url]))}`);
  });
  return last;
}

const named = (rs: EventRecord[], name: string) => rs.filter((r) => r.name === name);
/** Records in the order the page sent their events (concurrent requests may reach the topic in another order). */
const inSentOrder = (v: Visitor, rs: EventRecord[]) => {
  const order = new Map(v.sent.map((b, k) => [b.i, k]));
  return [...rs].sort((a, b) => (order.get(a.eventId) ?? Infinity) - (order.get(b.eventId) ?? Infinity));
};
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends a custom "barrier" event and waits until it and every request the page sent before it
 * have been answered: the collect endpoint answers only after the bus has the record, so the
 * records returned are everything the page sent up to here (requests race each other, so the
 * barrier's own record arriving first would prove nothing).
 */
async function barrier(v: Visitor, origin: string, label: string): Promise<EventRecord[]> {
  await v.page.evaluate(
    (l) => (window as unknown as { eddy(n: string, p: object): void }).eddy('barrier', { label: l }),
    label,
  );
  await eventually(() => v.sent.some((b) => b.n === 'barrier' && b.p?.label === label), 5000, `barrier ${label} sent`);
  await eventually(
    () => v.requests.every((r) => v.settled.has(r)),
    10_000,
    `collect requests before barrier ${label} answered`,
  );
  return recordsWhen(
    origin,
    (rs) => rs.some((r) => r.name === 'barrier' && r.props?.label === label),
    `barrier ${label}`,
  );
}

/** Hides or shows the page as a tab switch would (headless Chromium pages are always visible). */
async function setVisibility(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    if (h) {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    } else {
      // Back to the browser's own getters, so a later real unload reports itself truthfully.
      delete (document as { hidden?: boolean }).hidden;
      delete (document as { visibilityState?: string }).visibilityState;
    }
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

describe('tracker in Chromium against a whole Eddy', () => {
  it('a page load sends one pageview with url, path, referrer and event id (no viewport width: nothing read it)', async () => {
    const s = await site();
    const v = await visitor();
    await v.page.goto(`${s.url}/`);
    let rs = await recordsWhen(s.url, (x) => named(x, 'pageview').length === 1, 'pageview on load');
    const [pv] = named(rs, 'pageview');
    expect(pv).toMatchObject({
      name: 'pageview',
      url: `${s.url}/`,
      path: '/',
      hostname: '127.0.0.1',
      siteId: stack.site.id,
      channel: 'direct',
    });
    expect(pv!.referrer).toBeUndefined();
    expect(pv!.props).toBeUndefined();
    expect(pv!.eventId).toMatch(UUID);

    // On the wire: text/plain (no CORS preflight), short keys, the event id, the client clock.
    const req = v.requests[0]!;
    expect(req.method()).toBe('POST');
    expect(req.headers()['content-type']).toMatch(/^text\/plain/);
    const body = v.sent[0]!;
    expect(Object.keys(body).sort()).toEqual(['c', 'i', 'n', 'r', 's', 't', 'u']);
    expect(body).toMatchObject({ s: stack.site.key, n: 'pageview', u: `${s.url}/`, r: '', i: pv!.eventId });
    expect(body.c).toBeGreaterThanOrEqual(body.t);
    expect(Math.abs(body.t - Date.now())).toBeLessThan(60_000);

    // A second page of the same site: a full navigation, so the previous page is the referrer.
    await v.page.click('text=About');
    rs = await recordsWhen(s.url, (x) => named(x, 'pageview').length === 2, 'pageview of /about');
    expect(named(rs, 'pageview')[1]).toMatchObject({
      url: `${s.url}/about`,
      path: '/about',
      referrer: `${s.url}/`,
      channel: 'internal',
    });
    expect(v.statuses.every((x) => x === 202)).toBe(true);
    await v.context.close();
  });

  it('pushState navigation sends a pageview per new path or search, with the previous page as referrer and its engagement', async () => {
    const s = await site();
    const v = await visitor();
    await v.page.goto(`${s.url}/app`);
    await recordsWhen(s.url, (x) => named(x, 'pageview').length === 1, 'pageview of /app');
    await pause(300);
    await v.page.click('text=Pricing');
    await recordsWhen(s.url, (x) => named(x, 'pageview').length === 2, 'pageview of /app/pricing');
    // Same URL (a router saving scroll state) and a hash link without data-hash: not page views.
    await v.page.click('#same');
    await v.page.click('text=FAQ (hash)');
    await pause(200);
    await v.page.click('#search');
    await v.page.screenshot({ path: path.join(artifactsDir, 'tracker-spa.png') });
    const rs = await barrier(v, s.url, 'spa');

    const pageviews = named(inSentOrder(v, rs), 'pageview');
    expect(pageviews.map((r) => [r.url, r.path, r.referrer])).toEqual([
      [`${s.url}/app`, '/app', undefined],
      [`${s.url}/app/pricing`, '/app/pricing', `${s.url}/app`],
      [`${s.url}/app/products?sort=price`, '/app/products', `${s.url}/app/pricing`],
    ]);
    expect(new Set(pageviews.map((r) => r.eventId)).size).toBe(3);
    // The page left behind reports its engagement under its own URL.
    const engagement = named(rs, 'engagement');
    expect(engagement.map((r) => r.url).sort()).toEqual([`${s.url}/app`, `${s.url}/app/pricing`]);
    const first = engagement.find((r) => r.url === `${s.url}/app`)!;
    expect(first.engagement!.visibleMs).toBeGreaterThanOrEqual(250);
    expect(first.engagement!.scrollDepth).toBe(100);
    expect(v.statuses.every((x) => x === 202)).toBe(true);
    await v.context.close();
  });

  it('the back button (popstate) sends a pageview for the page returned to', async () => {
    const s = await site();
    const v = await visitor();
    await v.page.goto(`${s.url}/app`);
    await v.page.click('text=Pricing');
    await v.page.click('text=Docs');
    await recordsWhen(s.url, (x) => named(x, 'pageview').length === 3, 'three SPA pageviews');
    await v.page.goBack({ waitUntil: 'commit' });
    await expect.poll(() => v.page.textContent('#view')).toBe('View: /app/pricing');
    await v.page.goForward({ waitUntil: 'commit' });
    const rs = await recordsWhen(s.url, (x) => named(x, 'pageview').length === 5, 'pageviews after back and forward');
    expect(named(inSentOrder(v, rs), 'pageview').map((r) => [r.path, r.referrer])).toEqual([
      ['/app', undefined],
      ['/app/pricing', `${s.url}/app`],
      ['/app/docs', `${s.url}/app/pricing`],
      ['/app/pricing', `${s.url}/app/docs`],
      ['/app/docs', `${s.url}/app/pricing`],
    ]);
    await v.context.close();
  });

  it('hash changes are page views only when the snippet has data-hash, and then the hash is part of the URL', async () => {
    const plain = await site();
    const hashed = await site('data-allow-localhost data-hash');
    for (const s of [plain, hashed]) {
      const v = await visitor();
      await v.page.goto(`${s.url}/app#intro`);
      await recordsWhen(s.url, (x) => named(x, 'pageview').length === 1, 'first pageview');
      await v.page.click('text=FAQ (hash)');
      await expect.poll(() => v.page.textContent('#view')).toBe('View: /app#faq');
      const rs = await barrier(v, s.url, 'hash');
      const pageviews = named(rs, 'pageview');
      if (s === plain) {
        expect(pageviews.map((r) => r.url)).toEqual([`${s.url}/app`]);
        expect(v.sent.filter((b) => b.n === 'pageview')).toHaveLength(1);
      } else {
        expect(pageviews.map((r) => [r.url, r.referrer])).toEqual([
          [`${s.url}/app#intro`, undefined],
          [`${s.url}/app#faq`, `${s.url}/app#intro`],
        ]);
      }
      await v.context.close();
    }
  });

  it('a page restored from the back-forward cache sends a new pageview', async () => {
    const s = await site();
    const v = await visitor({
      initScript: `addEventListener('pageshow', (e) => { if (e.persisted) window.__restoredFromBfcache = true; });`,
    });
    await v.page.goto(`${s.url}/`);
    await recordsWhen(s.url, (x) => named(x, 'pageview').length === 1, 'pageview of /');
    await v.page.click('text=About');
    await recordsWhen(s.url, (x) => named(x, 'pageview').length === 2, 'pageview of /about');
    await v.page.goBack({ waitUntil: 'commit' });
    // No load event and no script re-run on a bfcache restore: only pageshow with persisted.
    await expect
      .poll(() =>
        v.page.evaluate(
          () => (window as unknown as { __restoredFromBfcache?: boolean }).__restoredFromBfcache === true,
        ),
      )
      .toBe(true);
    const rs = await recordsWhen(s.url, (x) => named(x, 'pageview').length === 3, 'pageview after the bfcache restore');
    const pageviews = named(rs, 'pageview');
    expect(pageviews.map((r) => r.url)).toEqual([`${s.url}/`, `${s.url}/about`, `${s.url}/`]);
    expect(pageviews[2]!.eventId).not.toBe(pageviews[0]!.eventId);
    // The tracker ran once in that document: the restore was counted by the pageshow handler.
    expect(v.sent.filter((b) => b.n === 'pageview' && b.u === `${s.url}/`)).toHaveLength(2);
    await v.context.close();
  });

  it('eddy(name, props) sends a custom event with its props', async () => {
    const s = await site();
    const v = await visitor();
    await v.page.goto(`${s.url}/pricing`);
    await v.page.evaluate(() =>
      (window as unknown as { eddy(n: string, p?: object): void }).eddy('newsletter', {
        source: 'footer',
        step: 2,
        confirmed: false,
      }),
    );
    await v.page.evaluate(() => (window as unknown as { eddy(n: string): void }).eddy('no_props'));
    const rs = await recordsWhen(
      s.url,
      (x) => x.some((r) => r.name === 'no_props') && x.some((r) => r.name === 'newsletter'),
      'custom events',
    );
    expect(named(rs, 'newsletter')).toEqual([
      expect.objectContaining({
        name: 'newsletter',
        url: `${s.url}/pricing`,
        path: '/pricing',
        props: { source: 'footer', step: 2, confirmed: false },
      }),
    ]);
    expect(named(rs, 'newsletter')[0]!.referrer).toBeUndefined();
    expect(named(rs, 'no_props')[0]!.props).toBeUndefined();
    await v.context.close();
  });

  it('eddy() calls queued by the stub before the tracker loaded are sent in order after the pageview', async () => {
    const s = await site();
    const v = await visitor();
    await v.page.goto(`${s.url}/queued`);
    const rs = await recordsWhen(s.url, (x) => x.length === 3, 'pageview and two queued events');
    expect(v.sent.map((b) => b.n)).toEqual(['pageview', 'cart_viewed', 'coupon_applied']);
    expect(named(rs, 'cart_viewed')[0]).toMatchObject({ url: `${s.url}/queued`, props: { items: 3, currency: 'EUR' } });
    expect(named(rs, 'coupon_applied')[0]).toMatchObject({
      url: `${s.url}/queued`,
      props: { code: 'SPRING', valid: true },
    });
    // The stub's queue is replaced by the real function.
    expect(await v.page.evaluate(() => (window as unknown as { eddy: { q?: unknown } }).eddy.q)).toBeUndefined();
    await v.context.close();
  });

  it('clicking an element with data-eddy-event sends that event with its data-eddy-prop-* props', async () => {
    const s = await site();
    const v = await visitor();
    await v.page.goto(`${s.url}/pricing`);
    await v.page.click('#signup b'); // a click on a child of the tagged element counts
    await v.page.click('#plain');
    await v.page.screenshot({ path: path.join(artifactsDir, 'tracker-pricing.png') });
    const rs = await barrier(v, s.url, 'tagged');
    expect(named(rs, 'signup')).toEqual([
      expect.objectContaining({
        name: 'signup',
        url: `${s.url}/pricing`,
        path: '/pricing',
        props: { plan: 'pro', 'billing-cycle': 'yearly' },
      }),
    ]);
    expect(inSentOrder(v, rs).map((r) => r.name)).toEqual(['pageview', 'signup', 'barrier']);
    await v.context.close();
  });

  it('an outbound link click sends outbound with the link URL and survives the navigation away', async () => {
    const s = await site();
    const v = await visitor();
    await v.context.route('https://partner.example/**', (r) =>
      r.fulfill({ contentType: 'text/html', body: '<h1>Partner</h1>' }),
    );
    await v.page.goto(`${s.url}/links`);
    await recordsWhen(s.url, (x) => named(x, 'pageview').length === 1, 'pageview of /links');
    await v.page.click('#outbound');
    await v.page.waitForURL('https://partner.example/**');
    const rs = await recordsWhen(
      s.url,
      (x) => named(x, 'outbound').length === 1 && named(x, 'engagement').length === 1,
      'outbound and engagement',
    );
    expect(named(rs, 'outbound')[0]).toMatchObject({
      name: 'outbound',
      url: `${s.url}/links`,
      path: '/links',
      props: { url: 'https://partner.example/landing?ref=shop' },
    });
    // Leaving also reported the page's engagement.
    expect(named(rs, 'engagement')[0]).toMatchObject({ url: `${s.url}/links` });

    // A link to the same hostname is not outbound.
    await v.page.goto(`${s.url}/links`);
    await v.page.click('#internal');
    await v.page.waitForURL(`${s.url}/about`);
    const after = await barrier(v, s.url, 'internal');
    expect(named(after, 'outbound')).toHaveLength(1);
    expect(named(inSentOrder(v, after), 'pageview').map((r) => r.path)).toEqual(['/links', '/links', '/about']);
    await v.context.close();
  });

  it('a download click sends download with the file URL, by extension or by the download attribute', async () => {
    const s = await site();
    const v = await visitor();
    await v.page.goto(`${s.url}/links`);
    await Promise.all([v.page.waitForEvent('download'), v.page.click('#download')]);
    await Promise.all([v.page.waitForEvent('download'), v.page.click('#download-attr')]);
    const rs = await barrier(v, s.url, 'downloads');
    expect(named(inSentOrder(v, rs), 'download').map((r) => [r.url, r.props])).toEqual([
      [`${s.url}/links`, { url: `${s.url}/files/price-list.pdf` }],
      [`${s.url}/links`, { url: `${s.url}/files/export?format=raw` }],
    ]);
    expect(named(rs, 'outbound')).toHaveLength(0);
    await v.context.close();
  });

  it('a 404 page with data-404 on the script sends the pageview and a 404 event with its path', async () => {
    const s = await site();
    const v = await visitor();
    const res = await v.page.goto(`${s.url}/no/such/page?from=mail`);
    expect(res?.status()).toBe(404);
    const rs = await recordsWhen(s.url, (x) => x.length === 2, 'pageview and 404');
    expect(rs.map((r) => r.name).sort()).toEqual(['404', 'pageview']);
    expect(named(rs, '404')[0]).toMatchObject({
      url: `${s.url}/no/such/page?from=mail`,
      path: '/no/such/page',
      props: { path: '/no/such/page' },
    });
    await v.context.close();
  });

  it('engagement: visible time and max scroll depth are sent when the page is hidden and when it is left, and not again without news', async () => {
    const s = await site();
    const v = await visitor();
    await v.page.goto(`${s.url}/long`);
    await recordsWhen(s.url, (x) => named(x, 'pageview').length === 1, 'pageview of /long');
    const loadedAt = Date.now();
    // Scroll to 60 %, then back to the top: the maximum is what counts.
    const expectedDepth = await v.page.evaluate(() => {
      const h = document.documentElement.scrollHeight;
      window.scrollTo(0, 0.6 * h - innerHeight);
      return Math.round(((scrollY + innerHeight) / h) * 100);
    });
    await pause(150);
    await v.page.evaluate(() => window.scrollTo(0, 0));
    await pause(500);
    await v.page.screenshot({ path: path.join(artifactsDir, 'tracker-long.png') });

    // Tab switched away: the first engagement.
    await setVisibility(v.page, true);
    const hiddenAt = Date.now();
    let rs = await recordsWhen(s.url, (x) => named(x, 'engagement').length === 1, 'engagement on hidden');
    const first = named(rs, 'engagement')[0]!;
    expect(first).toMatchObject({ name: 'engagement', url: `${s.url}/long`, path: '/long' });
    expect(first.engagement!.scrollDepth).toBe(expectedDepth);
    expect(expectedDepth).toBeGreaterThan(50);
    expect(first.engagement!.visibleMs).toBeGreaterThanOrEqual(600);
    expect(first.engagement!.visibleMs).toBeLessThanOrEqual(hiddenAt - loadedAt + 1000);

    // Hidden time is not visible time; back, scroll to the bottom, then leave for another site.
    await pause(700);
    await setVisibility(v.page, false);
    await v.page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await pause(300);
    await v.page.goto(`${s.url}/about`);
    rs = await recordsWhen(
      s.url,
      (x) => named(x, 'pageview').length === 2 && named(x, 'engagement').length === 2,
      'engagement on leaving',
    );
    const second = named(rs, 'engagement')[1]!;
    expect(second.url).toBe(`${s.url}/long`);
    expect(second.engagement!.scrollDepth).toBe(100);
    expect(second.engagement!.visibleMs).toBeGreaterThanOrEqual(250);
    expect(second.engagement!.visibleMs).toBeLessThan(700);
    // pagehide and visibilitychange both fire on leaving: one engagement, not a second with v = 0.
    await pause(300);
    const all = await barrier(v, s.url, 'after-leave');
    expect(named(all, 'engagement').filter((r) => r.url === `${s.url}/long`)).toHaveLength(2);
    await v.context.close();
  });

  it('Do-Not-Track and Global Privacy Control suppress every send; data-respect-dnt="false" turns that off', async () => {
    const cases = [
      { signal: 'DNT', init: `Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' });` },
      {
        signal: 'GPC',
        init: `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });`,
      },
    ];
    const respecting = await site();
    const ignoring = await site('data-allow-localhost data-respect-dnt="false"');
    for (const [n, c] of cases.entries()) {
      const v = await visitor({ initScript: c.init });
      await v.page.goto(`${respecting.url}/pricing`);
      await v.page.click('#signup');
      await v.page.evaluate(() => (window as unknown as { eddy(n: string): void }).eddy('custom'));
      await v.page.goto(`${respecting.url}/about`);
      await v.page.goto(`${ignoring.url}/pricing`);
      await recordsWhen(
        ignoring.url,
        (x) => named(x, 'pageview').length === n + 1,
        `${c.signal}: pageview where the site ignores the signal`,
      );
      expect(
        v.sent.map((b) => b.u).every((u) => u.startsWith(ignoring.url)),
        `${c.signal}: nothing sent from the respecting site`,
      ).toBe(true);
      await v.context.close();
    }
    expect(await records(respecting.url)).toEqual([]);
    expect(named(await records(ignoring.url), 'pageview')).toHaveLength(2);
  });

  it('localhost is not tracked without data-allow-localhost', async () => {
    const s = await site('');
    const v = await visitor();
    await v.page.goto(`${s.url}/pricing`);
    await v.page.click('#signup');
    await v.page.evaluate(() => (window as unknown as { eddy(n: string): void }).eddy('custom'));
    await v.page.goto(`${s.url}/about`);
    await pause(500);
    expect(v.sent).toEqual([]);
    expect(await records(s.url)).toEqual([]);
    await v.context.close();
  });

  it('a send that fails (network error, then 503) is retried with the same event id and recorded once', async () => {
    const s = await site();
    const v = await visitor();
    const attempts: { body: Wire; at: number }[] = [];
    await v.context.route(`${stack.url}/api/collect`, async (route) => {
      attempts.push({ body: JSON.parse(route.request().postData()!) as Wire, at: Date.now() });
      if (attempts.length === 1) return route.abort('connectionreset');
      if (attempts.length === 2)
        return route.fulfill({
          status: 503,
          headers: { 'access-control-allow-origin': '*', 'retry-after': '2' },
          body: '{"error":"unavailable"}',
        });
      return route.continue();
    });
    await v.page.goto(`${s.url}/`);
    const rs = await recordsWhen(s.url, (x) => x.length === 1, 'the retried pageview', 15_000);
    await pause(1500); // no further attempt after the success
    expect(attempts).toHaveLength(3);
    const [a, b, c] = attempts.map((x) => x.body);
    expect(new Set([a!.i, b!.i, c!.i]).size).toBe(1);
    expect(rs[0]).toMatchObject({ name: 'pageview', eventId: a!.i, url: `${s.url}/` });
    // The event time stays; the send time moves with each attempt (backoff 1 s, then 2 s).
    expect(b!.t).toBe(a!.t);
    expect(c!.t).toBe(a!.t);
    expect(b!.c - a!.c).toBeGreaterThanOrEqual(900);
    expect(c!.c - b!.c).toBeGreaterThanOrEqual(1900);
    expect(await records(s.url)).toHaveLength(1);
    await v.context.close();
  });
});
