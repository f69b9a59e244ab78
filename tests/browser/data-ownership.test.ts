import { randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';
import { zip } from '../helpers/zip';

// Issue 16 as a site owner does it: import an Umami export in the site's settings and watch the
// progress bar and report, see the dashboard mark the imported days, import a Plausible export
// whose custom events the Custom events panel tags as imported, then delete the account
// (password re-entered, email typed) — signed out, and the account cannot sign in again.

let browser: Browser;
let stack: Stack;
beforeAll(async () => {
  browser = await launchChromium();
  stack = await startStack({ bus: 'embedded', label: 'data-ownership' });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const header =
  'website_id,session_id,visit_id,event_id,hostname,browser,os,device,country,url_path,url_query,referrer_domain,event_type,event_name,created_at';
const row = (session: string, p: string, at: string, type = 1, name = '') =>
  [
    randomUUID(),
    session,
    randomUUID(),
    randomUUID(),
    '127.0.0.1',
    'chrome',
    'Windows 10',
    'desktop',
    'FR',
    p,
    '',
    '',
    type,
    name,
    at,
  ].join(',');

/**
 * Chooses an import source once React has hydrated the settings page. Chosen before, the choice is
 * the DOM's alone, and a file set then never reaches React's state: the import went out as
 * Plausible's ("bad date: 4", seen under load). Only React sets the file input's `accept`, so
 * choosing Umami until it reads ".csv" proves hydration (Plausible's is also the server's default).
 */
async function chooseSource(card: Locator, source: 'umami' | 'plausible'): Promise<void> {
  const accept = () => card.getByLabel('Export file').getAttribute('accept');
  await expect
    .poll(
      async () => {
        await card.getByRole('combobox').selectOption('umami');
        return accept();
      },
      { timeout: 15_000 },
    )
    .toBe('.csv');
  if (source === 'plausible') {
    await card.getByRole('combobox').selectOption('plausible');
    await expect.poll(accept, { timeout: 5_000 }).toBe('.zip,.csv');
  }
}

describe('data ownership in the browser', () => {
  it(
    'imports an Umami export with a progress bar and report, marks the dashboard, and deletes the account',
    { timeout: 120_000 },
    async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
      const page = await context.newPage();
      await signIn(page, stack.url, stack.user.email, stack.user.password);
      await page.goto(`${stack.url}/sites/${stack.site.id}/settings`);
      const card = page.getByTestId('import-data');
      await chooseSource(card, 'umami');
      const csv = [
        header,
        row('a', '/', '2025-05-10 10:00:00'),
        row('a', '/pricing', '2025-05-10 10:01:00'),
        row('a', '/pricing', '2025-05-10 10:02:00', 2, 'signup'),
        row('b', '/', '2025-05-10 12:00:00'),
        'broken,row',
      ].join('\n');
      await card
        .getByLabel('Export file')
        .setInputFiles({ name: 'website_event.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await card.getByRole('button', { name: 'Import' }).click();
      // The progress, or what the card says instead (an error notice) when there is none.
      const progress = async () => {
        const bar = card.getByRole('progressbar').first();
        return (await bar.count())
          ? ((await bar.getAttribute('aria-valuenow')) ?? '')
          : ((await card.textContent()) ?? '');
      };
      await expect.poll(progress, { timeout: 30_000 }).toBe('100');
      await expect
        .poll(async () => (await card.textContent()) ?? '', { timeout: 10_000 })
        .toMatch(/5 of 5 rows read · 4 imported · 1 skipped · 2025-05-10 – 2025-05-10/);
      expect(await card.textContent()).toMatch(/malformed row \(wrong number of cells\): 1/);
      await page.screenshot({ path: path.join(artifactsDir, 'data-ownership-import.png'), fullPage: true });

      await page.goto(`${stack.url}/sites/${stack.site.id}`);
      await expect
        .poll(async () => (await page.getByTestId('imported-notice').textContent()) ?? '', { timeout: 10_000 })
        .toMatch(/Umami 2025-05-10 – 2025-05-10/);

      // A Plausible export with custom events: the Custom events panel shows them, tagged imported.
      await page.goto(`${stack.url}/sites/${stack.site.id}/settings`);
      await chooseSource(card, 'plausible');
      const plausible = zip({
        'imported_visitors_20240101_20240102.csv':
          'date,visitors,pageviews,bounces,visits,visit_duration\n2024-01-01,20,40,5,25,900\n',
        'imported_custom_events_20240101_20240102.csv':
          'date,name,link_url,path,visitors,events\n2024-01-01,Signup,,,3,4\n2024-01-01,Signup,,,x,1\n',
      });
      await card
        .getByLabel('Export file')
        .setInputFiles({ name: 'plausible-export.zip', mimeType: 'application/zip', buffer: plausible });
      await card.getByRole('button', { name: 'Import' }).click();
      await expect
        .poll(async () => (await card.textContent()) ?? '', { timeout: 30_000 })
        .toMatch(/3 of 3 rows read · 2 imported · 1 skipped · 2024-01-01 – 2024-01-01/);
      await page.goto(`${stack.url}/sites/${stack.site.id}?range=custom&from=2024-01-01&to=2024-01-02`);
      const events = page.getByTestId('custom-events');
      await expect
        .poll(async () => (await events.textContent()) ?? '', { timeout: 15_000 })
        .toMatch(/Signup\s*imported/i);
      expect(await events.getByTestId('imported-tag').count()).toBe(1);
      await page
        .getByTestId('panel-custom-events')
        .screenshot({ path: path.join(artifactsDir, 'data-ownership-imported-events.png') });

      await page.goto(`${stack.url}/account`);
      await page.getByLabel('Password', { exact: true }).fill(stack.user.password);
      await page.getByLabel(`Type ${stack.user.email} to confirm`).fill(stack.user.email);
      await page.screenshot({ path: path.join(artifactsDir, 'data-ownership-delete-account.png'), fullPage: true });
      await page.getByRole('button', { name: 'Delete my account' }).click();
      await page.waitForURL(`${stack.url}/login?deleted=1`);
      // The old session is gone with the account.
      await page.goto(`${stack.url}/account`);
      await page.waitForURL(/\/login/);
      const db = new pg.Client({ connectionString: stack.db.url });
      await db.connect();
      try {
        expect((await db.query('SELECT count(*)::int AS n FROM users WHERE id = $1', [stack.user.id])).rows[0].n).toBe(
          0,
        );
        expect(
          (await db.query('SELECT count(*)::int AS n FROM events WHERE site_id = $1', [stack.site.id])).rows[0].n,
        ).toBe(0);
        expect((await db.query('SELECT count(*)::int AS n FROM sites WHERE id = $1', [stack.site.id])).rows[0].n).toBe(
          0,
        );
      } finally {
        await db.end();
      }
      await context.close();
    },
  );
});
