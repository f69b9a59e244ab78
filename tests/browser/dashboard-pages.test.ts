import path from 'node:path';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, localDate } from '@/lib/analytics/time-zone';
import { launchChromium, signIn } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';
import { generateTraffic, insertTraffic, rollupsOf } from '../integration/support/seed-traffic';

// The rest of the product in Chromium, on seeded history: settings with content groups, a
// password-protected share link opened by a stranger, an invitation accepted by a new user who
// then sees the site read-only, the loading and error states, and deleting a site. Screenshots
// at desktop and phone size go to tests/artifacts/pages-*.png.

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let browser: Browser;
let stack: Stack;

beforeAll(async () => {
  [browser, stack] = await Promise.all([
    launchChromium(),
    startStack({ bus: 'embedded', worker: false, label: 'pages' }),
  ]);
  const db = new pg.Pool({ connectionString: stack.db.url });
  const today = localDate(Date.now(), 'UTC');
  const days = Array.from({ length: 12 }, (_, i) => addDays(today, -1 - i));
  const events = generateTraffic({ seed: 3, days, timezone: 'UTC', visitorsPerDay: 40 });
  await insertTraffic(db, stack.site.id, events, rollupsOf(events, 'UTC', 30));
  await db.end();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(artifactsDir, `pages-${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(artifactsDir, `pages-${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

describe('site owner pages', () => {
  it('history of the last 30 days, then its loading and error states', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signIn(page, stack.url, stack.user.email, stack.user.password);
    const t0 = Date.now();
    await page.goto(`${stack.url}/sites/${stack.site.id}?range=30d`);
    await page.getByTestId('breakdown-pages').getByTestId('breakdown-row').first().waitFor();
    console.log(`[pages] 30-day dashboard ready in ${Date.now() - t0} ms`);
    await page.getByTestId('timeseries').waitFor();
    await page.getByTestId('timeseries').hover({ position: { x: 500, y: 80 } });
    await shoot(page, 'history-30d');

    // Loading: hold the stats request; error: make the breakdowns fail.
    let release: () => void = () => undefined;
    await page.route('**/api/sites/*/stats?*', async (route) => {
      await new Promise<void>((r) => (release = r));
      await route.continue();
    });
    await page.route('**/api/sites/*/breakdown?*', (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'internal', message: 'Internal error' } }),
      }),
    );
    await page.goto(`${stack.url}/sites/${stack.site.id}?range=yesterday`);
    const t1 = Date.now();
    await page.getByText('Could not load this table').first().waitFor();
    console.log(`[pages] error state shown after ${Date.now() - t1} ms`);
    await shoot(page, 'loading-and-errors');
    release();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await context.close();
  });

  it('settings: content groups are saved and the workers’ refresh marker moves', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signIn(page, stack.url, stack.user.email, stack.user.password);
    await page.goto(`${stack.url}/sites/${stack.site.id}/settings`);
    await page.getByRole('button', { name: '+ Add group' }).click();
    await page.getByLabel('Group 1 name').fill('Blog');
    await page.getByLabel('Group 1 pattern').fill('/blog/**');
    await page.getByLabel('Session gap (minutes)').fill('20');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved.').waitFor();
    await shoot(page, 'settings');
    const db = new pg.Client({ connectionString: stack.db.url });
    await db.connect();
    const site = await db.query(
      'SELECT session_gap_minutes, updated_at > created_at AS bumped FROM sites WHERE id = $1',
      [stack.site.id],
    );
    const groups = await db.query('SELECT name, pattern, position FROM content_groups WHERE site_id = $1', [
      stack.site.id,
    ]);
    await db.end();
    expect(site.rows[0]).toEqual({ session_gap_minutes: 20, bumped: true });
    expect(groups.rows).toEqual([{ name: 'Blog', pattern: '/blog/**', position: 0 }]);
    await context.close();
  });

  it('a password-protected share link shows a read-only dashboard to a stranger', async () => {
    const owner = await browser.newContext({ viewport: DESKTOP });
    const page = await owner.newPage();
    await signIn(page, stack.url, stack.user.email, stack.user.password);
    await page.goto(`${stack.url}/sites/${stack.site.id}/settings`);
    // The share-link form: the API keys card on the same page has a "Label" field too.
    const form = page.locator('form', { has: page.getByRole('button', { name: 'Create link' }) });
    await form.getByLabel('Label').fill('Investors');
    await form.getByLabel('Password (optional)').fill('open sesame');
    await form.getByRole('button', { name: 'Create link' }).click();
    const link = page.getByTestId('share-links').getByRole('link');
    await link.waitFor();
    const url = (await link.textContent())!;
    await owner.close();

    const stranger = await browser.newContext({ viewport: DESKTOP });
    const s = await stranger.newPage();
    await s.goto(url);
    await s.getByText('This dashboard is protected').waitFor();
    await shoot(s, 'share-locked');
    await s.getByLabel('Password').fill('open sesame');
    await s.getByRole('button', { name: 'View dashboard' }).click();
    await s.getByTestId('dashboard').waitFor();
    await s.getByTestId('breakdown-pages').getByTestId('breakdown-row').first().waitFor();
    await s.getByTestId('live-status').getByText('Live').waitFor({ timeout: 10_000 });
    expect(await s.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    await shoot(s, 'share-dashboard');
    await stranger.close();
  });

  it('an invitation link makes a new user a viewer who cannot change settings', async () => {
    const owner = await browser.newContext({ viewport: DESKTOP, permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await owner.newPage();
    await signIn(page, stack.url, stack.user.email, stack.user.password);
    await page.goto(`${stack.url}/teams`);
    await page.getByRole('link', { name: /Test team/ }).click();
    const inviteeEmail = `viewer-${Date.now()}@example.test`;
    await page.getByLabel('Email of the person you invite').fill(inviteeEmail);
    await page.getByRole('button', { name: 'Create invite link' }).click();
    const inviteUrl = await page.getByLabel('Invite link').inputValue();
    await shoot(page, 'team');
    await owner.close();

    const invitee = await browser.newContext({ viewport: DESKTOP });
    const p = await invitee.newPage();
    await p.goto(inviteUrl);
    await shoot(p, 'invite');
    await p.getByRole('link', { name: 'Create an account to join' }).click();
    await p.getByLabel('Email').fill(inviteeEmail);
    await p.getByLabel('Password').fill('another long password');
    await p.getByRole('button', { name: 'Create account' }).click();
    await p.waitForURL(/\/invite\//);
    await p.getByRole('button', { name: 'Join team' }).click();
    await p.waitForURL(/\/teams\/[0-9a-f-]{36}$/);
    await p.goto(`${stack.url}/sites`);
    await p.getByText('Test shop').click();
    await p.getByTestId('dashboard').waitFor();
    expect(await p.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    expect((await p.goto(`${stack.url}/sites/${stack.site.id}/settings`))?.status()).toBe(404);
    await p.goto(`${stack.url}/account`);
    await shoot(p, 'account');
    await invitee.close();
  });

  it('deleting a site needs its domain typed and removes its data', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signIn(page, stack.url, stack.user.email, stack.user.password);
    await page.goto(`${stack.url}/sites/${stack.site.id}/settings`);
    await page.getByRole('button', { name: 'Delete this site…' }).click();
    const confirm = page.getByRole('button', { name: 'Delete site and data' });
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel('Type the domain to confirm').fill('shop.test');
    await shoot(page, 'delete-confirm');
    await confirm.click();
    await page.waitForURL(`${stack.url}/sites`);
    await page.getByText('No sites yet').waitFor();
    await shoot(page, 'no-sites');
    const db = new pg.Client({ connectionString: stack.db.url });
    await db.connect();
    const left = await db.query(
      'SELECT (SELECT count(*) FROM rollups WHERE site_id = $1)::int AS rollups, (SELECT count(*) FROM events WHERE site_id = $1)::int AS events, (SELECT count(*) FROM share_links WHERE site_id = $1)::int AS links',
      [stack.site.id],
    );
    await db.end();
    expect(left.rows[0]).toEqual({ rollups: 0, events: 0, links: 0 });
    await context.close();
  });
});
