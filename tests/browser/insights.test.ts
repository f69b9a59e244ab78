import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn, VISITOR_UA } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';

// Issue 14 in Chromium: a site owner defines a goal and a funnel on the Goals page, traffic with
// custom events, outbound clicks and a 404 arrives through the real collect endpoint while the
// dashboard is open, and the Goals, Funnels, Custom events and Behaviour panels show the right
// numbers live (no reload). Then the snippet page explains a bot's dropped event, and the
// dashboard is screenshotted in the light and dark themes and on a phone, where every navigation
// item must be visible. Screenshots: tests/artifacts/insights-*.png.

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

let browser: Browser;
let stack: Stack;

beforeAll(async () => {
  [browser, stack] = await Promise.all([
    launchChromium(),
    startStack({
      bus: 'embedded',
      label: 'insights',
      env: { DEFINITIONS_REFRESH_MS: '300', TRUSTED_PROXY_HEADER: 'x-forwarded-for' },
    }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function collect(
  ip: string,
  events: { n: string; path: string; p?: Record<string, string | number | boolean> }[],
  ua = VISITOR_UA,
): Promise<void> {
  const body = events.map((e) => ({ s: stack.site.key, n: e.n, u: `http://127.0.0.1${e.path}`, r: '', p: e.p }));
  const res = await fetch(`${stack.url}/api/collect`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'text/plain', 'user-agent': ua, 'x-forwarded-for': ip },
  });
  expect(res.status).toBe(202);
}

async function textOf(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

let current: Page | null = null;

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  // What the page showed instead, for the failure message and a screenshot to look at.
  const shown = current
    ? await current
        .locator('main')
        .innerText()
        .catch(() => '')
    : '';
  if (current)
    await current
      .screenshot({ path: path.join(artifactsDir, 'insights-failure.png'), fullPage: true })
      .catch(() => undefined);
  throw new Error(`${what} not seen within ${ms} ms; the page showed: ${shown.slice(0, 3000)}`);
}

describe('goals, funnels and custom events on the dashboard', () => {
  it('are defined in the UI, then fill in live from real traffic with the right numbers', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    current = page;
    await signIn(page, stack.url, stack.user.email, stack.user.password);
    const site = `${stack.url}/sites/${stack.site.id}`;

    // 1. A goal (custom event with a property) and a funnel (two pages, then the event).
    await page.goto(`${site}/goals`);
    await page.getByLabel('Goal name').fill('Pro signup');
    await page.getByLabel('Goal type').selectOption('event');
    await page.getByLabel('Goal event name').fill('Signup');
    await page.getByLabel('Goal property', { exact: true }).fill('plan');
    await page.getByLabel('Goal property value').fill('pro');
    await page.getByRole('button', { name: 'Add goal' }).click();
    await until(
      async () => (await textOf(page, 'goal-list')).includes('Signup (plan = pro)'),
      10_000,
      'the goal in the list',
    );

    await page.getByLabel('Funnel name').fill('Pricing to signup');
    await page.getByLabel('Step 1 path pattern').fill('/');
    await page.getByLabel('Step 2 path pattern').fill('/pricing');
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByLabel('Step 3 type').selectOption('event');
    await page.getByLabel('Step 3 event name').fill('Signup');
    // Completed in one visit (the default), not within a time limit: no time limit field then.
    expect(await page.getByLabel('Steps must be completed').inputValue()).toBe('visit');
    await page.getByLabel('Steps must be completed').selectOption('window');
    expect(await page.getByLabel('Time limit (minutes)').count()).toBe(1);
    await page.getByLabel('Steps must be completed').selectOption('visit');
    expect(await page.getByLabel('Time limit (minutes)').count()).toBe(0);
    await page.getByRole('button', { name: 'Add funnel' }).click();
    await until(
      async () => (await textOf(page, 'funnel-list')).includes('Visit / → Visit /pricing → Signup · in one visit'),
      10_000,
      'the funnel in the list, in one visit',
    );
    await page.screenshot({ path: path.join(artifactsDir, 'insights-goals-page.png'), fullPage: true });
    // The workers reload definitions every 300 ms here.
    await page.waitForTimeout(1500);

    // 2. The dashboard is open before the traffic.
    await page.goto(site);
    await page.getByTestId('panel-goals').waitFor();

    // 3. Three visitors: two reach the signup (one on the pro plan), one hits a 404; outbound clicks.
    await collect('198.51.100.1', [
      { n: 'pageview', path: '/' },
      { n: 'pageview', path: '/pricing' },
      { n: 'Signup', path: '/pricing', p: { plan: 'pro', seats: 3 } },
      { n: 'outbound', path: '/pricing', p: { url: 'https://github.com/eddy' } },
    ]);
    await collect('198.51.100.2', [
      { n: 'pageview', path: '/' },
      { n: 'pageview', path: '/pricing' },
      { n: 'Signup', path: '/pricing', p: { plan: 'free', seats: 1 } },
    ]);
    await collect('198.51.100.3', [
      { n: 'pageview', path: '/' },
      { n: 'pageview', path: '/old' },
      { n: '404', path: '/old', p: { path: '/old' } },
      { n: 'outbound', path: '/old', p: { url: 'https://github.com/eddy' } },
    ]);

    // 4. Live: no reload. Goal: 1 unique of 3 visitors. Funnel: 3 → 2 → 2.
    await until(
      async () => /Pro signup[\s\S]*1[\s\S]*33\.3%/.test(await textOf(page, 'panel-goals')),
      45_000,
      'the goal with 1 converter and 33.3 %',
    );
    await until(
      async () => (await page.getByTestId('funnel-step-visitors').allTextContents()).join(',') === '3,2,2',
      45_000,
      'funnel steps 3, 2, 2',
    );
    expect(await textOf(page, 'panel-funnels')).toContain('−1 dropped');
    await until(
      async () => /Signup\s*2\s*2\s*66\.7%/.test(await textOf(page, 'custom-events')),
      45_000,
      'Signup: 2 visitors, 2 events, 66.7 %',
    );
    await until(
      async () => /github\.com\/eddy\s*2\s*2/.test(await textOf(page, 'panel-behaviour')),
      45_000,
      'outbound clicks',
    );

    // Click the event: the whole dashboard is filtered to the visits that sent it, and its properties open.
    const metric = async (key: string, label: string, value: string) =>
      new RegExp(`^${label}${value}(\\D|$)`).test((await textOf(page, `metric-${key}`)).trim());
    await page.getByTestId('custom-events').getByText('Signup').click();
    await until(async () => page.url().includes('custom_event=Signup'), 10_000, 'custom_event=Signup in the URL');
    await until(
      async () => (await textOf(page, 'filters')).includes('Custom event is Signup'),
      10_000,
      'the custom event chip',
    );
    // Visitors 1 and 2 sent Signup, each in a visit of two pageviews (/ and /pricing); visitor 3 did not.
    await until(
      async () =>
        (await metric('visitors', 'Visitors', '2')) &&
        (await metric('pageviews', 'Pageviews', '4')) &&
        (await metric('sessions', 'Visits', '2')),
      30_000,
      'Signup visits: 2 visitors, 4 pageviews, 2 visits',
    );
    await until(
      async () => {
        const t = await textOf(page, 'event-properties');
        return t.includes('plan = pro') && t.includes('plan = free') && t.includes('seats = 3');
      },
      10_000,
      'the Signup properties',
    );
    await page.getByLabel('Search property values').fill('pro');
    await until(
      async () => (await page.getByTestId('event-properties').getByTestId('insight-row').count()) === 1,
      10_000,
      'the search narrowing to plan = pro',
    );
    // Click a property value: narrowed to the visit whose Signup had plan = pro.
    await page.getByTestId('event-properties').getByText('plan = pro').click();
    await until(async () => page.url().includes('event_prop=plan%3Apro'), 10_000, 'event_prop=plan:pro in the URL');
    await until(
      async () => (await textOf(page, 'filters')).includes('Event property is plan = pro'),
      10_000,
      'the property chip',
    );
    await until(
      async () =>
        (await metric('visitors', 'Visitors', '1')) &&
        (await metric('pageviews', 'Pageviews', '2')) &&
        (await metric('sessions', 'Visits', '1')),
      30_000,
      'plan = pro: 1 visitor, 2 pageviews, 1 visit',
    );
    await page.getByTestId('history').and(page.locator('[data-loading="false"]')).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(artifactsDir, 'insights-filtered-by-event.png'), fullPage: true });
    // Remove both chips: back to everyone.
    await page.getByRole('button', { name: 'Clear all' }).click();
    await until(
      async () => (await page.getByTestId('filters').count()) === 0 && (await metric('visitors', 'Visitors', '3')),
      30_000,
      'the filters cleared: 3 visitors',
    );

    // 404s, then the goal broken down by device.
    await page.getByTestId('panel-behaviour').getByRole('tab', { name: '404s' }).click();
    await until(async () => /\/old\s*1\s*1/.test(await textOf(page, 'panel-behaviour')), 10_000, 'the 404 page');
    await page.getByTestId('goal-row').first().click();
    await page.getByTestId('panel-goals').getByRole('tab', { name: 'Device' }).click();
    await until(
      async () => /desktop\s*3\s*1\s*33\.3%/.test(await textOf(page, 'goal-breakdown')),
      10_000,
      'conversion rate by device',
    );

    // 5. Screenshots: light, dark, phone (both themes). Look at them.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(artifactsDir, 'insights-dashboard-light.png'), fullPage: true });
    const toggle = page.getByTestId('theme-toggle');
    await toggle.click(); // system → dark
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(2, 6, 23)');
    await page.screenshot({ path: path.join(artifactsDir, 'insights-dashboard-dark.png'), fullPage: true });
    // The choice survives a reload (set before the first paint).
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');

    await page.setViewportSize(PHONE);
    // Loaded, not skeletons, before the picture.
    await until(
      async () =>
        (await page.getByTestId('funnel-step-visitors').count()) === 3 &&
        (await page.getByTestId('custom-events').count()) === 1,
      45_000,
      'the panels after the reload',
    );
    await page.getByTestId('history').and(page.locator('[data-loading="false"]')).waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(artifactsDir, 'insights-dashboard-phone-dark.png'), fullPage: true });
    // Every navigation item is on screen on a phone (nothing clipped or scrolled away).
    for (const nav of ['Main', 'Site']) {
      const links = page.getByRole('navigation', { name: nav }).getByRole('link');
      const n = await links.count();
      expect(n).toBeGreaterThanOrEqual(nav === 'Main' ? 3 : 6);
      for (let i = 0; i < n; i++) {
        const box = (await links.nth(i).boundingBox())!;
        expect(box.x, `${nav} link ${i}`).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, `${nav} link ${i}`).toBeLessThanOrEqual(PHONE.width);
      }
    }
    await toggle.click(); // dark → light
    await page.waitForTimeout(100);
    await page.screenshot({ path: path.join(artifactsDir, 'insights-dashboard-phone-light.png'), fullPage: true });
    // "System" follows the system's preference, also when it changes while the page is open.
    await toggle.click(); // light → system
    await page.emulateMedia({ colorScheme: 'dark' });
    await until(
      async () => (await page.evaluate(() => document.documentElement.dataset.theme)) === 'dark',
      5_000,
      'system dark',
    );
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(2, 6, 23)');
    await page.emulateMedia({ colorScheme: 'light' });
    await until(
      async () => (await page.evaluate(() => document.documentElement.dataset.theme)) === 'light',
      5_000,
      'system light',
    );

    // 6. The snippet page names a bot's dropped event and its fix, and lists what arrived.
    await collect(
      '198.51.100.9',
      [{ n: 'pageview', path: '/' }],
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
    );
    await page.setViewportSize(DESKTOP);
    await page.goto(`${site}/snippet`);
    await until(
      async () => /Dropped as a bot · 1 event/.test(await textOf(page, 'dropped-events')),
      15_000,
      'the bot drop with its reason',
    );
    expect(await textOf(page, 'dropped-events')).toContain('headless browser');
    expect(await textOf(page, 'received-events')).toContain('Signup');
    expect(await page.getByTestId('tracker-options-link').getAttribute('href')).toBe('/tracker-options.txt');
    const options = await fetch(`${stack.url}/tracker-options.txt`);
    expect(options.status).toBe(200);
    expect(await options.text()).toContain('data-404');
    await page.screenshot({ path: path.join(artifactsDir, 'insights-snippet.png'), fullPage: true });
    await context.close();
  }, 180_000);
});
