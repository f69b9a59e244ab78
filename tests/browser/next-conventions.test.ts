import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';

// Next.js conventions a user notices: each page names itself in the tab ("Sites · Eddy"), the
// app has an icon, and an unknown page or a site you may not see is Eddy's own 404 page.
// Screenshot: tests/artifacts/conventions-not-found.png.
// There is deliberately no route-level loading.tsx: with one, Next.js streams the page shell (200)
// before the page can call notFound(), so another tenant's site and the operator-only page would
// answer 200 instead of 404 (seen with app/(dashboard)/loading.tsx); the dashboard shows its own
// loading states per panel. app/error.tsx is not exercised here (no page can be made to throw).

let browser: Browser;
let stack: Stack;

beforeAll(async () => {
  [browser, stack] = await Promise.all([launchChromium(), startStack({ bus: 'embedded', worker: false, label: 'conventions' })]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('Next.js conventions', () => {
  it('every page has its own title, and the icon is served', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${stack.url}/login`);
    expect(await page.title()).toBe('Sign in · Eddy');
    const icon = await page.locator('link[rel="icon"]').first().getAttribute('href');
    expect(icon).toMatch(/^\/icon\.svg/);
    const res = await page.request.get(`${stack.url}${icon!}`);
    expect([res.status(), res.headers()['content-type']]).toEqual([200, expect.stringContaining('image/svg+xml')]);

    await signIn(page, stack.url, stack.user.email, stack.user.password);
    const titles: Record<string, string> = {};
    for (const p of ['/sites', `/sites/${stack.site.id}`, `/sites/${stack.site.id}/alerts`, `/sites/${stack.site.id}/settings`, '/teams', '/account']) {
      await page.goto(`${stack.url}${p}`);
      titles[p] = await page.title();
    }
    expect(titles).toEqual({
      '/sites': 'Sites · Eddy',
      [`/sites/${stack.site.id}`]: 'Dashboard · Eddy',
      [`/sites/${stack.site.id}/alerts`]: 'Alerts · Eddy',
      [`/sites/${stack.site.id}/settings`]: 'Site settings · Eddy',
      '/teams': 'Teams · Eddy',
      '/account': 'Account · Eddy',
    });
  });

  it("an unknown page and another team's site get Eddy's 404 page", async () => {
    const page = await (await browser.newContext()).newPage();
    const res = await page.goto(`${stack.url}/no-such-page`);
    expect(res?.status()).toBe(404);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    expect(await page.title()).toBe('Not found · Eddy');
    await page.screenshot({ path: path.join(artifactsDir, 'conventions-not-found.png') });

    await signIn(page, stack.url, stack.user.email, stack.user.password);
    const other = await page.goto(`${stack.url}/sites/00000000-0000-4000-8000-000000000000`);
    expect(other?.status()).toBe(404);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  });
});
