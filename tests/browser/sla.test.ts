import { randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn, VISITOR_UA } from '../helpers/browser';
import { artifactsDir, startStack, type Stack } from '../helpers/stack';
import { eventually } from '../helpers/wait';

// The freshness SLA as a site owner sees it, with the dashboard open: steady traffic, then the
// stream worker frozen (SIGSTOP) for twice the 5 s target. Every tile says how far behind it is and
// turns red; the SLA page says "breached", never "within target", while it is; afterwards the
// breach's worst value is the pause (not a bucket size) and today's compliance counts the minutes.

const TARGET_MS = 5000;
const PAUSE_MS = 2 * TARGET_MS;
const DESKTOP = { width: 1280, height: 1000 };
let browser: Browser;
let stack: Stack;
let db: pg.Pool;
let streaming = true;
let stream: Promise<void>;

const shoot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(artifactsDir, `sla-${name}.png`), fullPage: true });

beforeAll(async () => {
  stack = await startStack({
    bus: 'kafka',
    label: 'sla-ui',
    workers: [['rollups', 'sessions', 'peaks', 'reconcile'], ['alerts']],
    env: { ALERTS_INTERVAL_MS: '500' },
  });
  db = new pg.Pool({ connectionString: stack.db.url });
  db.on('error', () => undefined);
  await db.query('INSERT INTO site_slas (site_id, target_ms) VALUES ($1, $2)', [stack.site.id, TARGET_MS]);
  stream = (async () => {
    for (let i = 0; streaming; i++) {
      await fetch(`${stack.url}/api/collect`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': VISITOR_UA },
        body: JSON.stringify({
          s: stack.site.key,
          i: randomUUID(),
          n: 'pageview',
          u: `http://127.0.0.1/page-${i % 4}`,
        }),
      }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  streaming = false;
  await stream;
  if (stack?.workers[0]?.exitCode === null) stack.workers[0].kill('SIGCONT');
  await browser?.close();
  await db?.end();
  await stack?.stop();
});

const tone = (page: Page, testId: string) =>
  page.getByTestId(testId).getByTestId('behind').first().getAttribute('data-tone');

describe('freshness SLA in the browser', () => {
  it(
    'tiles show how far behind they are and turn red past the target; the SLA page never says "within target" while breached',
    { timeout: 180_000 },
    async () => {
      const context = await browser.newContext({ viewport: DESKTOP });
      const page = await context.newPage();
      await signIn(page, stack.url, stack.user.email, stack.user.password);
      await page.goto(`${stack.url}/sites/${stack.site.id}`);
      await page.getByTestId('live-status').getByText('Live').waitFor();
      // Healthy: every tile carries a green "… behind" under the 5 s target.
      for (const tile of ['dashboard', 'history', 'breakdown-pages', 'peaks'])
        await page.getByTestId(tile).getByTestId('behind').first().waitFor();
      await eventually(async () => (await tone(page, 'dashboard')) === 'ok', 30_000, 'live tile within target');
      expect(await page.getByTestId('dashboard').getByTestId('behind').first().textContent()).toMatch(
        /^(< 1|[1-2]\.\d) s behind$/,
      );
      await shoot(page, '1-dashboard-healthy');

      const pausedAt = Date.now();
      stack.workers[0]!.kill('SIGSTOP');
      try {
        // The live tile goes red within the target plus a couple of measurement pushes.
        await eventually(async () => (await tone(page, 'dashboard')) === 'red', TARGET_MS + 8000, 'live tile red');
        expect(Date.now() - pausedAt).toBeLessThan(TARGET_MS + 8000);
        const text = (await page.getByTestId('dashboard').getByTestId('behind').first().textContent()) ?? '';
        expect(Number(/^(\d+(?:\.\d)?) s behind$/.exec(text)?.[1])).toBeGreaterThanOrEqual(TARGET_MS / 1000);
        expect(await tone(page, 'breakdown-pages')).toBe('red');
        await shoot(page, '2-dashboard-paused');

        const sla = await context.newPage();
        await sla.goto(`${stack.url}/sites/${stack.site.id}/sla`);
        await sla.locator('[data-testid="sla-state"][data-state="breached"]').waitFor({ timeout: 10_000 });
        expect(await sla.getByTestId('sla-state').textContent()).toBe('breached (stopped worker)');
        expect(await sla.getByText('within target', { exact: true }).count()).toBe(0);
        await shoot(sla, '3-sla-breached');
        await sla.close();
        await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + PAUSE_MS - Date.now())));
      } finally {
        stack.workers[0]!.kill('SIGCONT');
      }
      const resumedAt = Date.now();

      // Recovered: tiles back under the target, the breach resolved with the outage as its worst value
      // (the pause, plus the seconds the worker needs to rejoin its group and commit the backlog).
      await eventually(async () => (await tone(page, 'dashboard')) === 'ok', 40_000, 'live tile back within target');
      const okAt = Date.now();
      const sla = await context.newPage();
      await sla.goto(`${stack.url}/sites/${stack.site.id}/sla`);
      await sla.locator('[data-testid="sla-breach"][data-open="false"]').first().waitFor({ timeout: 40_000 });
      await sla.locator('[data-testid="sla-state"][data-state="within"]').waitFor({ timeout: 20_000 });
      const breach = (await sla.getByTestId('sla-breach').first().textContent()) ?? '';
      const worst = Number(/worst (\d+(?:\.\d)?) s behind/.exec(breach)?.[1]);
      expect(worst * 1000).toBeGreaterThan(resumedAt - pausedAt - 2000);
      expect(worst * 1000).toBeLessThan(okAt - pausedAt + 2000);
      // Today's compliance: some measured minutes, not all of them within target.
      const today = (await sla.getByTestId('sla-today').textContent()) ?? '';
      const pct = Number(/Today: (\d+(?:\.\d+)?) %/.exec(today)?.[1]);
      expect(pct).toBeGreaterThanOrEqual(0);
      expect(pct).toBeLessThan(100);
      expect(await sla.getByTestId('sla-day').count()).toBe(30);
      await shoot(sla, '4-sla-recovered');
      await shoot(page, '5-dashboard-recovered');
      await context.close();
    },
  );
});
