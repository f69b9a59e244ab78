import { describe, expect, it } from 'vitest';
import { createSiteSchema, normalizeHostname, snippetFor, updateSiteSchema } from './settings';

describe('site settings', () => {
  it('normalises pasted URLs to hostnames', () => {
    expect(normalizeHostname(' https://WWW.Example.com:8443/path?q#x ')).toBe('www.example.com');
    expect(normalizeHostname('shop.example.')).toBe('shop.example');
  });

  it('validates and defaults a new site; unknown fields are dropped', () => {
    const ok = createSiteSchema.parse({
      teamId: '00000000-0000-4000-8000-000000000000',
      name: 'Shop',
      domain: 'https://shop.example/',
      publicKey: 'mine',
      rateLimitPerMinute: 1,
    });
    expect(ok).toMatchObject({
      domain: 'shop.example',
      timezone: 'UTC',
      sessionGapMinutes: 30,
      saltRotation: 'day',
      respectDnt: true,
      allowedHostnames: [],
    });
    expect(ok).not.toHaveProperty('publicKey');
    expect(
      createSiteSchema.safeParse({ teamId: '00000000-0000-4000-8000-000000000000', name: 'x', domain: 'not a host' })
        .success,
    ).toBe(false);
    expect(
      createSiteSchema.safeParse({
        teamId: '00000000-0000-4000-8000-000000000000',
        name: 'x',
        domain: 'a.example',
        timezone: 'Mars/Base',
      }).success,
    ).toBe(false);
    expect(
      createSiteSchema.safeParse({
        teamId: '00000000-0000-4000-8000-000000000000',
        name: 'x',
        domain: 'a.example',
        contentGroups: [{ name: 'Blog', pattern: 'blog' }],
      }).success,
    ).toBe(false);
  });

  it('a partial update does not re-apply defaults', () => {
    expect(updateSiteSchema.parse({ name: 'New', teamId: 'x' })).toEqual({ name: 'New' });
    expect(updateSiteSchema.parse({ allowedHostnames: ['*.Example.com'] })).toEqual({
      allowedHostnames: ['*.example.com'],
    });
  });

  it('the snippet carries DNT and localhost settings', () => {
    const base = { publicKey: 's_k', domain: 'shop.example', allowedHostnames: ['shop.example'], respectDnt: true };
    expect(snippetFor(base, 'https://eddy.example')).toBe(
      '<script defer src="https://eddy.example/t.js" data-site="s_k"></script>',
    );
    expect(snippetFor({ ...base, respectDnt: false }, 'https://e')).toContain('data-respect-dnt="false"');
    expect(snippetFor({ ...base, domain: '127.0.0.1', allowedHostnames: [] }, 'http://e')).toContain(
      'data-allow-localhost',
    );
  });
});
