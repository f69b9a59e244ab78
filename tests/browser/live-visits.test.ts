import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveTestSite, signIn } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';

// Issue 12 §2: visits are live. One visitor browses three pages of a customer's site (the real
// tracker in a real page, over Kafka); soon after the third pageview's acknowledgement the
// dashboard reads Visits 1, Pages / visit 3.00 and Bounce rate 0 % — in the history tiles and in
// the live header — while the visit is still open (its session gap is 30 minutes, so anything
// shown now comes from the early firings). How soon is printed here and measured where timing
// belongs, in a benchmark (`npm run bench -- live-sessions`: goal p50 ≤ 250 ms, p99 ≤ 1 s); the
// test's bound is loose so that a busy CI machine (a first run at load 10–16 took longer than 2 s)
// cannot fail it while the numbers are right.

let browser: Browser;
let stack: Stack;
beforeAll(async () => {
  browser = await launchChromium();
  stack = await startStack({ bus: 'kafka', label: 'live-visits' });
});
afterAll(async () => {
  await stack?.stop();
  await browser?.close();
});

describe('live visits on the dashboard', () => {
  it('one visitor browsing 3 pages shows Visits 1, Pages / visit 3.00 and Bounce 0 % while the visit is open', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const dashboard = await context.newPage();
    await signIn(dashboard, stack.url, stack.user.email, stack.user.password);
    await dashboard.goto(`${stack.url}/sites/${stack.site.id}`);
    await expectText(() => dashboard.getByTestId('live-status').textContent(), 'Live', 15_000);
    expect((await dashboard.getByTestId('visits-30m').textContent())?.trim()).toBe('0');

    const shop = await serveTestSite(
      `<!doctype html><html><head><title>Test shop</title><script defer src="${stack.url}/t.js" data-site="${stack.site.key}" data-allow-localhost></script></head><body><h1>Test shop</h1></body></html>`,
    );
    const visitor = await browser.newPage();
    let acknowledgedAt = 0;
    for (const p of ['/', '/pricing', '/about']) {
      const sent = visitor.waitForResponse((r) => r.url().endsWith('/api/collect'));
      await visitor.goto(`${shop.url}${p}`);
      expect((await sent).status()).toBe(202);
      acknowledgedAt = Date.now();
    }

    const tile = (key: string) => () => dashboard.getByTestId(`metric-${key}`).locator('span.text-2xl').textContent();
    const want: [() => Promise<string | null>, string][] = [
      [tile('sessions'), '1'],
      [tile('pagesPerSession'), '3.00'],
      [tile('bounceRate'), '0%'],
      [tile('pageviews'), '3'],
      [() => dashboard.getByTestId('visits-30m').textContent(), '1'],
      [() => dashboard.getByTestId('bounce-30m').textContent(), '0%'],
    ];
    const deadline = acknowledgedAt + 30_000;
    for (const [read, value] of want) await expectText(read, value, Math.max(0, deadline - Date.now()));
    const latency = Date.now() - acknowledgedAt;
    await dashboard.screenshot({ path: path.join(artifactsDir, 'live-visits.png'), fullPage: false });
    console.log(`[live-visits] third pageview acknowledged → Visits 1, Pages / visit 3.00, Bounce 0 %: ${latency} ms`);
    await visitor.close();
    await context.close();
    await shop.close();
  });
});

async function expectText(read: () => Promise<string | null>, want: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: string | null = null;
  do {
    last = await read();
    if (last?.trim() === want) return;
    await new Promise((r) => setTimeout(r, 25));
  } while (Date.now() < until);
  throw new Error(`expected "${want}" within ${timeoutMs} ms, last saw "${last}"`);
}
