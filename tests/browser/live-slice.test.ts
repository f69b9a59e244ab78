import path from 'node:path';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveTestSite, signIn } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';

// The thin slice end to end, in both run modes: a page on another origin embeds the snippet,
// the pageview goes collect → bus → worker → PostgreSQL → live relay → Socket.IO, and the
// dashboard's number goes up within 2 seconds.

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(['kafka', 'embedded'] as const)('live slice on the %s bus', (busKind) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ bus: busKind, label: `slice-${busKind}` });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a pageview on a customer page shows up on the live dashboard within 2 seconds', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const dashboard = await context.newPage();
    await signIn(dashboard, stack.url, stack.user.email, stack.user.password);
    await dashboard.goto(`${stack.url}/sites/${stack.site.id}`);
    await expectText(() => dashboard.getByTestId('live-status').textContent(), 'Live', 15_000);
    const counter = dashboard.getByTestId('pageviews-30m');
    expect(await counter.textContent()).toBe('0');

    const shop = await serveTestSite(
      `<!doctype html><html><head><title>Test shop</title><script defer src="${stack.url}/t.js" data-site="${stack.site.key}" data-allow-localhost></script></head><body><h1>Test shop</h1></body></html>`,
    );
    const visitor = await browser.newPage();
    const sent = visitor.waitForResponse((r) => r.url().endsWith('/api/collect'));
    await visitor.goto(shop.url);
    const response = await sent;
    expect(response.status()).toBe(202);
    const acknowledgedAt = Date.now();

    await expectText(() => counter.textContent(), '1', 2000);
    const latency = Date.now() - acknowledgedAt;
    await dashboard.screenshot({ path: path.join(artifactsDir, `live-slice-${busKind}.png`) });

    // The count came from the database, not from the client.
    const c = new pg.Client({ connectionString: stack.db.url });
    c.on('error', () => undefined);
    await c.connect();
    const r = await c.query<{ pageviews: number }>(
      "SELECT sum(pageviews)::int AS pageviews FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = ''",
      [stack.site.id],
    );
    const e = await c.query<{ url: string }>('SELECT url FROM events WHERE site_id = $1', [stack.site.id]);
    await c.end();
    expect(r.rows[0]!.pageviews).toBe(1);
    expect(e.rows.map((x) => x.url)).toEqual([`${shop.url}/`]);
    console.log(`[live-slice ${busKind}] acknowledgement → dashboard: ${latency} ms`);
    await visitor.close();
    await context.close();
    await shop.close();
  });

  it('a signed-in user cannot open or join another tenant’s site', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, stack.url, stack.user.email, stack.user.password);
    const res = await page.goto(`${stack.url}/sites/00000000-0000-4000-8000-000000000000`);
    expect(res?.status()).toBe(404);
    await context.close();
  });
});

async function expectText(read: () => Promise<string | null>, want: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < until) {
    last = await read();
    if (last?.trim() === want) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`expected "${want}" within ${timeoutMs} ms, last saw "${last}"`);
}
