import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn, VISITOR_UA } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';

// API keys as an admin handles them in the site settings — created, shown once, listed by
// prefix with their last use, revoked — and what a key's server events look like on the
// dashboard: the "Server requests" card, beside (not inside) the browser's pageviews.

let browser: Browser;
let stack: Stack;
beforeAll(async () => {
  browser = await launchChromium();
  stack = await startStack({ bus: 'embedded', label: 'api-keys-ui' });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('API keys in the site settings', () => {
  it('a key is shown once, works, shows its last use, and stops working when revoked; its server requests get their own card', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    await signIn(page, stack.url, stack.user.email, stack.user.password);
    await page.goto(`${stack.url}/sites/${stack.site.id}/settings`);
    await page.getByPlaceholder('Production API server').fill('Backend');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.getByTestId('new-api-key').textContent())!.trim();
    expect(key).toMatch(/^eddy_[A-Za-z0-9_-]{43}$/);
    await expect
      .poll(async () => page.getByTestId('api-keys').textContent(), { timeout: 15_000 })
      .toContain(key.slice(0, 9));

    // The key sends a page's server requests and a pageview.
    const ev = (name: string, status?: number) => ({
      name,
      url: `https://shop.test/${status ? `api/${status}` : ''}`,
      ip: '198.51.100.60',
      user_agent: VISITOR_UA,
      ...(status ? { request: { method: 'GET', status, duration_ms: 4 } } : {}),
    });
    const sent = await fetch(`${stack.url}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [ev('pageview'), ev('request', 200), ev('request', 200), ev('request', 503)] }),
    });
    expect(sent.status).toBe(202);

    // Shown once: after a reload the value is gone, the prefix stays, with its last use.
    await page.reload();
    expect(await page.getByTestId('new-api-key').count()).toBe(0);
    expect(await page.content()).not.toContain(key);
    const row = page.getByTestId('api-keys').locator('li', { hasText: 'Backend' });
    await expect.poll(async () => row.textContent(), { timeout: 15_000 }).not.toContain('last used never');

    await page.goto(`${stack.url}/sites/${stack.site.id}`);
    await eventually(
      async () => {
        const total = page.getByTestId('server-requests-total');
        return (await total.count()) > 0 && (await total.textContent())?.trim() === '3';
      },
      30_000,
      'the Server requests card shows 3',
    );
    const card = await page.getByTestId('server-requests').textContent();
    expect(card).toContain('/api/200');
    expect(card).toContain('5xx');
    await page.screenshot({ path: path.join(artifactsDir, 'api-keys-dashboard.png'), fullPage: true });

    // The ledger books them under their own source.
    await eventually(
      async () => {
        await page.goto(`${stack.url}/sites/${stack.site.id}/ledger`);
        const api = page.getByTestId('ledger-received-api');
        return (await api.count()) > 0 && (await api.textContent())?.trim() === '4';
      },
      20_000,
      'the ledger shows 4 received through the events API',
    );

    await page.goto(`${stack.url}/sites/${stack.site.id}/settings`);
    await page
      .getByTestId('api-keys')
      .locator('li', { hasText: 'Backend' })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await expect.poll(async () => page.getByTestId('api-keys').textContent(), { timeout: 15_000 }).toContain('revoked');
    await page.screenshot({ path: path.join(artifactsDir, 'api-keys-settings.png'), fullPage: true });
    // The docs page the card links to.
    await page.getByRole('link', { name: 'the API docs' }).click();
    await page.waitForURL(/\/docs\/api$/);
    expect(await page.title()).toBe('API · Eddy');
    expect(await page.locator('a[href="/api/v1/openapi.json"]').count()).toBe(1);

    const after = await fetch(`${stack.url}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [ev('pageview')] }),
    });
    expect(after.status).toBe(401);
  });
});
