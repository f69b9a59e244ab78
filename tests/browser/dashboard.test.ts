import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveTestSite } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';

// A new customer, in Chromium, end to end: sign up → add a site → copy the snippet into a page
// on another local port → open it → the snippet page turns green and the dashboard shows the
// visitor live within 2 s → last 7 days → filter by a page → export CSV. Every step is
// screenshotted at desktop and phone size into tests/artifacts/dashboard-*.png.

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let browser: Browser;
let stack: Stack;

beforeAll(async () => {
  [browser, stack] = await Promise.all([launchChromium(), startStack({ bus: 'embedded', label: 'dashboard' })]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function shoot(page: Page, step: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(artifactsDir, `dashboard-${step}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(artifactsDir, `dashboard-${step}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

async function waitForText(
  read: () => Promise<string | null>,
  want: (s: string) => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < until) {
    last = await read().catch(() => null);
    if (last !== null && want(last.trim())) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} not seen within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

describe('a new customer', () => {
  it('signs up, adds a site, installs the snippet, watches the visit arrive live, then explores history', async () => {
    const context = await browser.newContext({
      viewport: DESKTOP,
      acceptDownloads: true,
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const page = await context.newPage();

    // 1. Sign up.
    await page.goto(`${stack.url}/signup`);
    await page.getByLabel('Name').fill('Ada');
    await page.getByLabel('Email').fill(`ada-${Date.now()}@example.test`);
    await page.getByLabel('Password').fill('a long enough password');
    await shoot(page, '1-signup');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${stack.url}/sites/new`);

    // 2. Add a site (the dev server on 127.0.0.1).
    await page.getByLabel('Site name').fill('Ada’s shop');
    await page.getByLabel('Domain').fill('127.0.0.1');
    await shoot(page, '2-add-site');
    await page.getByRole('button', { name: 'Add site' }).click();
    await page.waitForURL(/\/sites\/[0-9a-f-]{36}\/snippet$/);
    const siteId = /\/sites\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    const status = page.getByTestId('snippet-status');
    expect(await status.getAttribute('data-state')).toBe('waiting');
    await waitForText(
      () => page.getByTestId('snippet-status').textContent(),
      (s) => s.includes('Waiting for your first event'),
      5000,
      'waiting message',
    );

    // 3. Copy the snippet through the page's button and paste it into a page on another port.
    await page.getByTestId('copy-snippet').click();
    const snippet = await page.evaluate(() => navigator.clipboard.readText());
    expect(snippet).toMatch(
      /^<script defer src="http:\/\/127\.0\.0\.1:\d+\/t\.js" data-site="s_[\w-]+" data-allow-localhost><\/script>$/,
    );
    await shoot(page, '3-snippet-waiting');

    // The dashboard is open in a second tab, live, before the visit.
    const dashboard = await context.newPage();
    await dashboard.goto(`${stack.url}/sites/${siteId}`);
    await waitForText(
      () => dashboard.getByTestId('live-status').textContent(),
      (s) => s === 'Live',
      15_000,
      'dashboard live',
    );
    expect((await dashboard.getByTestId('current-visitors').textContent())?.trim()).toBe('0');
    await dashboard.getByTestId('history').getByText('No visitors in this range yet').waitFor();

    // 4. A visitor opens the customer's page.
    const shop = await serveTestSite(
      `<!doctype html><html><head><title>Pricing · Ada’s shop</title>${snippet}</head><body><h1>Pricing</h1></body></html>`,
    );
    const visitorContext = await browser.newContext();
    const visitor = await visitorContext.newPage();
    const sent = visitor.waitForResponse((r) => r.url().endsWith('/api/collect'));
    await visitor.goto(`${shop.url}/pricing`);
    expect((await sent).status()).toBe(202);
    const acknowledgedAt = Date.now();

    // 5. Within 2 s: the snippet page is green and the dashboard shows the visitor.
    await waitForText(
      async () => page.getByTestId('snippet-status').getAttribute('data-state'),
      (s) => s === 'received',
      2000,
      'snippet page green',
    );
    const snippetLatency = Date.now() - acknowledgedAt;
    await waitForText(
      () => dashboard.getByTestId('current-visitors').textContent(),
      (s) => s === '1',
      2000 - (Date.now() - acknowledgedAt),
      'current visitors = 1',
    );
    await waitForText(
      () => dashboard.getByTestId('pageviews-30m').textContent(),
      (s) => s === '1',
      2000 - (Date.now() - acknowledgedAt),
      'pageviews = 1',
    );
    const dashboardLatency = Date.now() - acknowledgedAt;
    await waitForText(
      () => dashboard.getByTestId('live-top-pages').textContent(),
      (s) => s.includes('/pricing'),
      2000,
      'top page now',
    );
    console.log(
      `[dashboard e2e] acknowledgement → snippet page green: ${snippetLatency} ms, → dashboard: ${dashboardLatency} ms`,
    );
    await shoot(page, '4-snippet-received');
    await shoot(dashboard, '5-dashboard-live');

    // 6. Last 7 days.
    await dashboard.getByRole('button', { name: 'Last 7 days' }).click();
    await dashboard.waitForURL(/range=7d/);
    await waitForText(
      () => dashboard.getByTestId('metric-pageviews').textContent(),
      (s) => s.startsWith('Pageviews1'),
      15_000,
      '7-day pageviews',
    );
    await dashboard.getByTestId('breakdown-pages').getByTestId('breakdown-row').first().waitFor();
    await shoot(dashboard, '6-last-7-days');

    // 7. Filter by the page.
    await dashboard.getByTestId('breakdown-pages').getByRole('button', { name: '/pricing' }).click();
    await dashboard.waitForURL(/page=%2Fpricing/);
    await waitForText(
      () => dashboard.getByTestId('filters').textContent(),
      (s) => s.includes('Page is /pricing'),
      5000,
      'filter chip',
    );
    await waitForText(
      () => dashboard.getByTestId('metric-visitors').textContent(),
      (s) => s.startsWith('Visitors1'),
      10_000,
      'filtered visitors',
    );
    // Filtered by a page, Pageviews are that page's views (Pages / visit counts all pages of its visits).
    await waitForText(
      () => dashboard.getByTestId('metric-pageviews').textContent(),
      (s) => s.startsWith('Views of this page1'),
      10_000,
      'the page filter names its pageviews',
    );
    await shoot(dashboard, '7-filtered');

    // 8. Export a table as CSV (with the filter applied).
    const download = dashboard.waitForEvent('download');
    await dashboard.getByTestId('breakdown-locations').getByTestId('export-country').click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^eddy-127\.0\.0\.1-country-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile((await file.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('Country,Visitors,Pageviews,Visits,Bounce rate,Avg. visit duration (s)');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^[^,]+,1,1,/);
    await shoot(dashboard, '8-exported');

    await visitorContext.close();
    await context.close();
    await shop.close();
  });
});
