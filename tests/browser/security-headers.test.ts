import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn, VISITOR_UA } from '../helpers/browser';
import { startStack, type Stack } from '../helpers/stack';

// The Content-Security-Policy (lib/http/security-headers.mjs) must not break the product: in
// Chromium, the dashboard (live socket included), a share page and the login page render and
// reach "Live" with zero CSP violations — collected both from the page's
// securitypolicyviolation events and from the console. A control proves the policy is enforced
// and that the collector would see a violation.

let browser: Browser;
let stack: Stack;

beforeAll(async () => {
  [browser, stack] = await Promise.all([launchChromium(), startStack({ bus: 'embedded', label: 'csp' })]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

interface Watch {
  violations: () => Promise<string[]>;
  console: string[];
}

/** Records CSP violations on every page of the context (init scripts are not subject to CSP). */
async function watchViolations(context: BrowserContext, page: Page): Promise<Watch> {
  await context.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI}`),
    );
  });
  const consoleLines: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) consoleLines.push(m.text());
  });
  page.on('pageerror', (e) => {
    // React's recoverable hydration mismatch (#418/#423/#425: the server HTML differed, React
    // re-rendered on the client) is not a CSP matter. It was seen once on the share page, on a CI
    // machine at load ~10 with the chaos suite beside it, and not in 30 reloads without that load;
    // it is reported here rather than failing this test (docs/TESTING.md, open findings).
    if (/Minified React error #(418|423|425)\b/.test(e.message))
      console.warn(`[csp test] hydration mismatch on ${page.url()}: ${e.message.slice(0, 120)}`);
    else consoleLines.push(`pageerror: ${e.message}`);
  });
  return {
    violations: () => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp),
    console: consoleLines,
  };
}

describe('Content-Security-Policy in the browser', () => {
  it('the dashboard, a share page and the login page render with no CSP violation', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, userAgent: VISITOR_UA });
    const page = await context.newPage();
    const watch = await watchViolations(context, page);

    const login = await page.goto(`${stack.url}/login`);
    expect(login?.headers()['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(await watch.violations()).toEqual([]);

    await signIn(page, stack.url, stack.user.email, stack.user.password);
    const dash = await page.goto(`${stack.url}/sites/${stack.site.id}`);
    expect(dash?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.getByTestId('dashboard').waitFor();
    // The live connection (Socket.IO over a same-origin WebSocket) is allowed by connect-src.
    await page.getByTestId('live-status').getByText('Live').waitFor({ timeout: 15_000 });
    expect(await watch.violations()).toEqual([]);

    // A share page, opened by a stranger.
    const link = await page.evaluate(async (siteId) => {
      const r = await fetch(`/api/sites/${siteId}/share-links`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ label: 'csp' }),
      });
      return ((await r.json()) as { link: { token: string } }).link.token;
    }, stack.site.id);
    const stranger = await browser.newContext({ userAgent: VISITOR_UA });
    const sp = await stranger.newPage();
    const strangerWatch = await watchViolations(stranger, sp);
    const share = await sp.goto(`${stack.url}/share/${link}`);
    expect(share?.headers()['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    await sp.getByTestId('dashboard').waitFor();
    await sp.getByTestId('live-status').getByText('Live').waitFor({ timeout: 15_000 });
    expect(await strangerWatch.violations()).toEqual([]);
    expect(strangerWatch.console).toEqual([]);
    await stranger.close();

    expect(watch.console).toEqual([]);

    // Control: the policy is enforced and the collector sees it — a fetch to another origin is refused.
    const refused = await page.evaluate(() =>
      fetch('http://127.0.0.1:9/exfiltrate').then(
        () => 'reached',
        () => 'refused',
      ),
    );
    expect(refused).toBe('refused');
    await expect
      .poll(() => watch.violations())
      .toEqual([expect.stringMatching(/^connect-src blocked http:\/\/127\.0\.0\.1:9/)]);
    await context.close();
  });
});
