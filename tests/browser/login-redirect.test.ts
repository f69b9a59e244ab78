import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser';
import { startStack, type Stack } from '../helpers/stack';

// Open redirect through the sign-in flow (issue 13, item 4): `/login?callbackUrl=/%09/host/…`
// used to land a signed-in browser on another origin, and `%0a`/`%0d` answered 500. The "other
// origin" here is a real server on another port, which must never see a request.

let browser: Browser;
let stack: Stack;
let evil: Server;
let evilHost = '';
let evilHits = 0;

beforeAll(async () => {
  evil = createServer((_req, res) => {
    evilHits++;
    res.end('phished');
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
  evilHost = `127.0.0.1:${(evil.address() as AddressInfo).port}`;
  [browser, stack] = await Promise.all([
    launchChromium(),
    startStack({ bus: 'embedded', label: 'login-redirect', worker: false }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await new Promise((r) => evil?.close(r));
});

/** Raw query values, exactly as an attacker would put them in a link (EVIL stands for the other origin's host). */
const HOSTILE = [
  '/%09/EVIL/x',
  '/%0a/EVIL/x',
  '/%0d/EVIL/x',
  '/%0d%0a/EVIL/x',
  '//EVIL/x',
  '/%5CEVIL/x',
  '/%2F%2FEVIL/x',
  '/%252F%252FEVIL/x',
  'http://EVIL/x',
  '%2F%09%2FEVIL%2Fx',
];

describe('sign-in redirects', () => {
  // One test per value: each signs in through the form (a password hash and three page loads),
  // which on a loaded CI machine did not fit ten times into one test's time budget.
  it.each(HOSTILE)('signing in through the form with callbackUrl=%s never leaves our origin', async (template) => {
    const origin = new URL(stack.url).origin;
    const cb = template.replace('EVIL', evilHost);
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(`${stack.url}/login?callbackUrl=${cb}`);
    expect(res!.status(), cb).toBe(200);
    await page.getByLabel('Email').fill(stack.user.email);
    await page.getByLabel('Password').fill(stack.user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 15_000 });
    await page.waitForLoadState('load');
    expect(new URL(page.url()).origin, cb).toBe(origin);
    expect(new URL(page.url()).pathname, cb).toBe('/sites');

    // Already signed in: the login page redirects on the server, and must not fail or leave.
    const again = await page.goto(`${stack.url}/login?callbackUrl=${cb}`);
    expect(again!.status(), cb).toBeLessThan(400);
    expect(new URL(page.url()).origin, cb).toBe(origin);
    await context.close();
    expect(evilHits).toBe(0);
  });

  it('a same-origin callbackUrl still works', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/login?callbackUrl=${encodeURIComponent(`/sites/${stack.site.id}`)}`);
    await page.getByLabel('Email').fill(stack.user.email);
    await page.getByLabel('Password').fill(stack.user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.url}/sites/${stack.site.id}`, { timeout: 15_000 });
    await context.close();
  });
});
