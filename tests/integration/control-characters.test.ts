import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack';
import { HttpSession } from './support/http-session';

// U+0000, lone surrogates and other control characters in names and filters (issue 13, item 7)
// used to reach PostgreSQL and come back as 500s. The shared parsing layer (lib/http/parse.ts)
// now answers 400 with a JSON error naming the field, for every route; this walks the real
// endpoints the audit named, as a signed-in owner and through a public share link.

let stack: Stack;
let http: HttpSession;
let teamId = '';
let shareToken = '';

beforeAll(async () => {
  stack = await startStack({
    bus: 'embedded',
    worker: false,
    label: 'control-chars',
    env: { TRUSTED_PROXY_HEADER: 'x-forwarded-for' },
  });
  http = new HttpSession(stack.url, '198.51.100.77');
  expect(await http.signIn(stack.user.email, stack.user.password)).toBe(true);
  teamId = (await http.json<{ teams: { id: string }[] }>('/api/teams')).body.teams[0]!.id;
  const link = await http.json<{ link: { token: string } }>(`/api/sites/${stack.site.id}/share-links`, {
    method: 'POST',
    json: { label: 'public' },
  });
  expect(link.status).toBe(201);
  shareToken = link.body.link.token;
});

afterAll(async () => {
  await stack?.stop();
});

const bad: [string, string][] = [
  ['NUL', 'a\u0000b'],
  ['lone high surrogate', 'a\ud800b'],
  ['lone low surrogate', '\udc00'],
  ['escape', 'x\u001b[31m'],
];

type Req = { method: string; path: string; json?: unknown };

function cases(value: string): [string, Req, string][] {
  const site = `/api/sites/${stack.site.id}`;
  const body: [string, Req, string][] = [
    [
      'sign-up name',
      {
        method: 'POST',
        path: '/api/signup',
        json: { name: value, email: `n-${randomUUID().slice(0, 8)}@example.test`, password: 'long enough password' },
      },
      'name',
    ],
    ['new team name', { method: 'POST', path: '/api/teams', json: { name: value } }, 'name'],
    ['team rename', { method: 'PATCH', path: `/api/teams/${teamId}`, json: { name: value } }, 'name'],
    [
      'new site name',
      { method: 'POST', path: '/api/sites', json: { teamId, name: value, domain: 'nul.example' } },
      'name',
    ],
    ['site rename', { method: 'PATCH', path: site, json: { name: value } }, 'name'],
    [
      'alert rule name',
      { method: 'POST', path: `${site}/alerts`, json: { name: value, condition: { type: 'sla' } } },
      'name',
    ],
    ['share-link label', { method: 'POST', path: `${site}/share-links`, json: { label: value } }, 'label'],
    ['a key of the body', { method: 'POST', path: '/api/teams', json: { name: 'ok', [value]: 1 } }, 'body'],
  ];
  // A URL cannot carry a lone surrogate (percent-decoding yields U+FFFD), only a JSON body can.
  if (!value.isWellFormed()) return body;
  return [
    ...body,
    ['stats page filter', { method: 'GET', path: `${site}/stats?range=7d&page=${encodeURIComponent(value)}` }, 'page'],
    [
      'breakdown filter',
      { method: 'GET', path: `${site}/breakdown?range=7d&dimension=page&referrer=${encodeURIComponent(value)}` },
      'referrer',
    ],
    [
      'export filter',
      { method: 'GET', path: `${site}/export?range=7d&dimension=page&page=${encodeURIComponent(value)}` },
      'page',
    ],
    [
      'share stats filter',
      { method: 'GET', path: `/api/share/${shareToken}/stats?range=7d&page=${encodeURIComponent(value)}` },
      'page',
    ],
    [
      'share breakdown filter',
      {
        method: 'GET',
        path: `/api/share/${shareToken}/breakdown?range=7d&dimension=page&page=${encodeURIComponent(value)}`,
      },
      'page',
    ],
  ];
}

describe('control characters in request input', () => {
  it.each(bad)('%s anywhere in a name, label or filter is a 400 naming the field', async (_what, value) => {
    const failures: string[] = [];
    for (const [name, req, field] of cases(value)) {
      const res = await http.json<{ error?: { code: string; message: string } }>(req.path, {
        method: req.method,
        json: req.json,
      });
      const ok =
        res.status === 400 && res.body.error?.code === 'bad_request' && res.body.error.message.startsWith(`${field}:`);
      if (!ok) failures.push(`${name}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
  });

  it('a NUL encoded as %00 in the raw query string of the stats endpoint is a 400, not a 500', async () => {
    const res = await http.json<{ error: { code: string; message: string } }>(
      `/api/sites/${stack.site.id}/stats?range=7d&page=%00`,
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'bad_request', message: 'page: contains a NUL character (U+0000)' });
  });

  it('ordinary text, including tabs, newlines and non-Latin scripts, still passes', async () => {
    const team = await http.json<{ team: { name: string } }>('/api/teams', {
      method: 'POST',
      json: { name: 'Équipe 東京 🚀\tline' },
    });
    expect(team.status).toBe(201);
    expect(team.body.team.name).toBe('Équipe 東京 🚀\tline');
    const stats = await http.json(
      `/api/sites/${stack.site.id}/stats?range=7d&page=${encodeURIComponent('/プライシング')}`,
    );
    expect(stats.status).toBe(200);
  });
});
