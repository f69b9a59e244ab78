import { describe, expect, it } from 'vitest';
import { safeAuthRedirect, safeCallbackPath } from './safe-redirect';

// Values as the login page receives them: Next has already percent-decoded the query once, so
// `?callbackUrl=/%09/evil.example` arrives here as "/\t/evil.example".
const hostile: [string, string][] = [
  ['tab after the slash (the reported attack)', '/\t/evil.example/x'],
  ['newline after the slash (was a 500)', '/\n/evil.example'],
  ['carriage return (was a 500)', '/\r/evil.example'],
  ['control character later in the path', '/sites/\r\nSet-Cookie: x=1'],
  ['NUL', '/sites\u0000'],
  ['C1 control', '/sites\u0085'],
  ['line separator', '/sites\u2028'],
  ['scheme-relative', '//evil.example'],
  ['triple slash', '///evil.example'],
  ['slash backslash', '/\\evil.example'],
  ['backslash later on', '/sites\\..\\..\\'],
  ['backslash first', '\\\\evil.example'],
  ['absolute URL', 'https://evil.example/'],
  ['javascript: URL', 'javascript:alert(1)'],
  ['data: URL', 'data:text/html,<script>alert(1)</script>'],
  ['no leading slash', 'evil.example'],
  ['leading space', ' //evil.example'],
  ['encoded slash', '/%2F%2Fevil.example'],
  ['encoded slash, mixed case', '/%2f/evil.example'],
  ['encoded backslash', '/%5Cevil.example'],
  ['encoded tab', '/%09/evil.example'],
  ['double-encoded tab', '/%2509/evil.example'],
  ['double-encoded slash', '/%252F%252Fevil.example'],
  ['encoded newline', '/%0A/evil.example'],
  ['malformed escape', '/%E0%A4%A'],
  ['over the length cap', `/${'a'.repeat(600)}`],
  ['empty', ''],
];

const fine = [
  '/sites',
  '/sites/new',
  '/invite/abc_DEF-123',
  '/sites/1?range=7d&page=%2Fpricing',
  '/sites/1#top',
  '/teams/x?q=a%20b',
];

describe('safeCallbackPath', () => {
  it.each(hostile)('refuses %s', (_name, value) => {
    expect(safeCallbackPath(value)).toBe('/sites');
    expect(safeCallbackPath(value, '/sites/new')).toBe('/sites/new');
  });

  it.each(fine)('keeps the same-origin path %s', (value) => {
    expect(safeCallbackPath(value)).toBe(value);
  });

  it('takes the first of repeated parameters and treats a missing one as the fallback', () => {
    expect(safeCallbackPath(['/\t/evil.example', '/sites/1'])).toBe('/sites');
    expect(safeCallbackPath(['/sites/1', '//evil.example'])).toBe('/sites/1');
    expect(safeCallbackPath(undefined)).toBe('/sites');
  });
});

describe('safeAuthRedirect (the next-auth redirect callback)', () => {
  const base = 'http://127.0.0.1:3000';
  it.each(hostile.filter(([, v]) => v !== ''))('sends %s to the base URL', (_name, value) => {
    expect(safeAuthRedirect(value, base)).toBe(base);
  });

  it.each([
    ['another origin', 'https://evil.example/sites'],
    ['same host, other port', 'http://127.0.0.1:3001/sites'],
    ['same host, other scheme', 'https://127.0.0.1:3000/sites'],
    ['our origin with a tab that the URL parser drops into //', 'http://127.0.0.1:3000/\t/evil.example'],
    ['our origin with an encoded double slash', 'http://127.0.0.1:3000/%2F%2Fevil.example'],
    ['not a URL', 'http://'],
  ])('sends %s to the base URL', (_name, value) => {
    expect(safeAuthRedirect(value, base)).toBe(base);
  });

  it('keeps paths and absolute URLs on our own origin', () => {
    expect(safeAuthRedirect('/sites/1?range=7d', base)).toBe(`${base}/sites/1?range=7d`);
    expect(safeAuthRedirect(`${base}/invite/abc`, base)).toBe(`${base}/invite/abc`);
    expect(safeAuthRedirect('/login', `${base}/`)).toBe(`${base}/login`);
  });
});
