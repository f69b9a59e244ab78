import { describe, expect, it } from 'vitest';
import { campaignFrom } from './campaign';
import { classifyChannel } from './channel';
import { hostMatches, SPAM } from './referrer-lists';
import { parseUserAgent } from './user-agent';

const chrome =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const iphone =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';
const ipad =
  'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

describe('user agent enrichment', () => {
  it('recognises desktop, phone and tablet browsers', () => {
    expect(parseUserAgent(chrome)).toEqual({ bot: false, device: 'desktop', browser: 'Chrome', os: 'Windows' });
    expect(parseUserAgent(iphone)).toMatchObject({ bot: false, device: 'mobile', browser: 'Mobile Safari', os: 'iOS' });
    expect(parseUserAgent(ipad)).toMatchObject({ device: 'tablet', os: 'iOS' });
  });

  it('flags crawlers, headless browsers, scripts and an empty user agent as bots', () => {
    for (const ua of [
      'Googlebot/2.1 (+http://www.google.com/bot.html)',
      'Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/156.0.0.0',
      'curl/8.5.0',
      'python-requests/2.32',
      '',
    ]) {
      expect(parseUserAgent(ua).bot, ua).toBe(true);
    }
  });
});

describe('campaign parameters', () => {
  it('reads UTM tags and paid click ids from the landing URL', () => {
    const c = campaignFrom(
      new URL('https://shop.test/?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday&gclid=abc'),
    );
    expect(c).toEqual({
      utm: { source: 'newsletter', medium: 'email', campaign: 'black-friday' },
      clickIds: ['gclid'],
    });
    expect(campaignFrom(new URL('https://shop.test/?fbclid=x'))).toEqual({ utm: undefined, clickIds: undefined });
  });
});

describe('channel classification', () => {
  const ch = (referrerHost: string | undefined, url = 'https://shop.test/') =>
    classifyChannel({ pageHost: 'shop.test', referrerHost, campaign: campaignFrom(new URL(url)) });
  it.each([
    [undefined, 'https://shop.test/', 'direct'],
    ['www.google.com', 'https://shop.test/', 'search'],
    ['google.co.uk', 'https://shop.test/', 'search'],
    ['duckduckgo.com', 'https://shop.test/', 'search'],
    ['t.co', 'https://shop.test/', 'social'],
    ['news.ycombinator.com', 'https://shop.test/', 'social'],
    ['mail.google.com', 'https://shop.test/', 'email'],
    ['chatgpt.com', 'https://shop.test/', 'ai'],
    ['gemini.google.com', 'https://shop.test/', 'ai'],
    ['www.perplexity.ai', 'https://shop.test/', 'ai'],
    ['blog.example.org', 'https://shop.test/', 'referral'],
    ['shop.test', 'https://shop.test/', 'internal'],
    ['www.google.com', 'https://shop.test/?gclid=1', 'paid'],
    ['blog.example.org', 'https://shop.test/?utm_medium=cpc', 'paid'],
    [undefined, 'https://shop.test/?utm_medium=newsletter', 'email'],
    [undefined, 'https://shop.test/?utm_source=facebook.com', 'social'],
  ])('referrer %s on %s is %s', (ref, url, channel) => {
    expect(ch(ref, url)).toBe(channel);
  });

  it("treats a navigation from the site's own hosts — with or without www, or another of its allowed hostnames — as internal", () => {
    const own = (referrerHost: string, pageHost = 'shop.test') =>
      classifyChannel({ pageHost, referrerHost, campaign: {}, siteHosts: ['shop.test', 'checkout.shop.test'] });
    expect(own('www.shop.test')).toBe('internal');
    expect(own('shop.test', 'www.shop.test')).toBe('internal');
    expect(own('checkout.shop.test')).toBe('internal');
    expect(own('shop.test.evil.example')).toBe('referral');
  });

  it('matches referrer spam domains and their subdomains only', () => {
    expect(hostMatches('semalt.com', SPAM)).toBe(true);
    expect(hostMatches('www.semalt.com', SPAM)).toBe(true);
    expect(hostMatches('notsemalt.com', SPAM)).toBe(false);
  });
});
