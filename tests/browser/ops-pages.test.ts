import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn, VISITOR_UA } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';

// The operator-facing pages as a user opens them: the ingestion ledger of a site shows what
// the collect endpoint received and what became of it (and the numbers add up), and the
// pipeline page shows the jobs and which worker process owns each partition.

let browser: Browser;
let stack: Stack;
beforeAll(async () => {
  browser = await launchChromium();
  stack = await startStack({ bus: 'embedded', label: 'ops-pages' });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const post = (body: unknown, ua = VISITOR_UA) =>
  fetch(`${stack.url}/api/collect`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': ua },
    body: JSON.stringify(body),
  });

describe('operator pages', () => {
  it('the ledger shows received = accepted + dropped for traffic that was accepted and dropped', async () => {
    for (let i = 0; i < 5; i++)
      expect((await post({ s: stack.site.key, u: 'http://127.0.0.1/ok', i: crypto.randomUUID() })).status).toBe(202);
    await post({ s: stack.site.key, u: 'http://127.0.0.1/bot' }, 'Googlebot/2.1 (+http://www.google.com/bot.html)');
    await post({ s: stack.site.key, u: 'https://not-allowed.example/' });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, stack.url, stack.user.email, stack.user.password);
    await eventually(
      async () => {
        await page.goto(`${stack.url}/sites/${stack.site.id}/ledger`);
        return (await page.getByTestId('ledger-received').textContent())?.trim() === '7';
      },
      20_000,
      'ledger shows 7 received',
    );
    const text = (await page.getByTestId('ledger-totals').textContent()) ?? '';
    expect(text).toMatch(/5/);
    await page.screenshot({ path: path.join(artifactsDir, 'ops-ledger.png'), fullPage: true });

    // A filtered view, answered by the web process's columnar copy of the facts once it has loaded.
    await eventually(
      async () => {
        const r = await page.request.get(`${stack.url}/api/sites/${stack.site.id}/stats?range=today&page=/ok`);
        return r.ok() && (await r.json()).summary.pageviews === 5;
      },
      20_000,
      'filtered stats count the 5 pageviews of /ok',
    );
    await page.goto(`${stack.url}/pipeline`);
    await expect.poll(async () => (await page.textContent('body')) ?? '', { timeout: 15_000 }).toMatch(/rollups/);
    await expect
      .poll(
        async () => {
          // PostgreSQL answers until the copy has loaded: ask again each time.
          await page.request.get(`${stack.url}/api/sites/${stack.site.id}/stats?range=today&page=/ok`);
          await page.goto(`${stack.url}/pipeline`);
          return (await page.getByTestId('filter-engine').textContent()) ?? '';
        },
        { timeout: 20_000 },
      )
      .toMatch(/Columnar copy ready: .* [1-9][\d,]* loads answered from it/);
    expect((await page.textContent('body')) ?? '').toMatch(/sessions/);
    // Every partition of both stream jobs — also those no event reached yet — names the worker
    // process that owns it (host:pid), alive (heartbeating). The stack has one worker process.
    const owners = async () =>
      page.locator('[data-testid^="owner-rollups-"], [data-testid^="owner-sessions-"]').allTextContents();
    const workerPid = stack.worker!.pid!;
    const partitions = 3; // the stack's EVENTS_PARTITIONS
    try {
      await expect
        .poll(owners, { timeout: 15_000 })
        .toEqual(Array.from({ length: 2 * partitions }, () => expect.stringMatching(new RegExp(`:${workerPid}$`))));
    } finally {
      await page.screenshot({ path: path.join(artifactsDir, 'ops-pipeline.png'), fullPage: true });
    }
    await context.close();
  });
});
