import path from 'node:path';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '@/lib/auth/password';
import { launchChromium, signIn } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';

// Next.js conventions a user notices: each page names itself in the tab ("Sites · Eddy"), the
// app has an icon, and an unknown page or a site you may not see is Eddy's own 404 page.
// Screenshot: tests/artifacts/conventions-not-found.png.
// Loading UI (loading.tsx) only where it cannot turn a 404 into a 200: Next.js streams the 200
// shell at a loading boundary before what is inside it runs, so a notFound() below a boundary
// answers 200 (seen with app/(dashboard)/loading.tsx: another tenant's site and the operator-only
// page answered 200). So the boundaries sit below the layouts that check access — the site
// dashboard's in the (overview) route group, which keeps the admin-only settings page out — and
// the last test pins every 404 and the redirect around them.
// app/error.tsx is not exercised here (no page can be made to throw).

let browser: Browser;
let stack: Stack;

beforeAll(async () => {
  [browser, stack] = await Promise.all([
    launchChromium(),
    startStack({ bus: 'embedded', worker: false, label: 'conventions' }),
  ]);
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
    for (const p of [
      '/sites',
      `/sites/${stack.site.id}`,
      `/sites/${stack.site.id}/alerts`,
      `/sites/${stack.site.id}/settings`,
      '/teams',
      '/account',
    ]) {
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

  it('pages with loading UI send it, and every 404 and sign-in redirect around them keeps its status', async () => {
    // A viewer of the stack's site: it may see the dashboard, not the settings.
    const viewer = { email: `viewer-${Date.now()}@example.test`, password: 'correct horse battery staple' };
    const c = new pg.Client({ connectionString: stack.db.url });
    await c.connect();
    try {
      const u = await c.query<{ id: string }>(
        'INSERT INTO users (id, email, password_hash) VALUES (gen_random_uuid(), $1, $2) RETURNING id',
        [viewer.email, await hashPassword(viewer.password)],
      );
      await c.query(
        "INSERT INTO memberships (team_id, user_id, role) SELECT team_id, $1, 'viewer' FROM sites WHERE id = $2",
        [u.rows[0]!.id, stack.site.id],
      );
    } finally {
      await c.end();
    }
    const foreign = '/sites/00000000-0000-4000-8000-000000000000';
    const site = `/sites/${stack.site.id}`;
    // The page's RSC payload names its loading component whenever its route has one (also in a
    // redirect's or a 404's body), so "has loading UI" is checked on the pages that answer 200.
    const get = async (
      request: {
        get(url: string, o: { maxRedirects: number }): Promise<{ status(): number; text(): Promise<string> }>;
      },
      p: string,
    ) => {
      const res = await request.get(`${stack.url}${p}`, { maxRedirects: 0 });
      return { status: res.status(), loading: (await res.text()).includes('page-loading') };
    };

    const anonymous = (await browser.newContext()).request;
    expect((await get(anonymous, site)).status).toBe(307);
    expect((await get(anonymous, '/account')).status).toBe(307);

    const page = await (await browser.newContext()).newPage();
    await signIn(page, stack.url, viewer.email, viewer.password);
    const withLoading = [
      site,
      `${site}/alerts`,
      `${site}/sla`,
      `${site}/ledger`,
      `${site}/snippet`,
      '/account',
      '/notifications',
    ];
    const missing = [
      `${site}/settings` /* admin only */,
      foreign,
      `${foreign}/alerts`,
      `${foreign}/sla`,
      `${foreign}/ledger`,
      `${foreign}/snippet`,
      `${foreign}/settings`,
      '/pipeline' /* operators only */,
      '/teams/00000000-0000-4000-8000-000000000000',
    ];
    const seen: Record<string, { status: number; loading: boolean } | number> = {};
    for (const p of withLoading) seen[p] = await get(page.request, p);
    for (const p of missing) seen[p] = (await get(page.request, p)).status;
    expect(seen).toEqual({
      ...Object.fromEntries(withLoading.map((p) => [p, { status: 200, loading: true }])),
      ...Object.fromEntries(missing.map((p) => [p, 404])),
    });
  });
});
