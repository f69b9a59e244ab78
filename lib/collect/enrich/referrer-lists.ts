// Known referrer domains by channel, and referrer spam. Data, not parsing logic: no maintained
// npm package carries these lists, so they live here and are easy to extend. A host matches an
// entry when it equals it or is a subdomain of it; entries ending in "." match any TLD.

export const SEARCH = [
  'google.',
  'bing.com',
  'duckduckgo.com',
  'yahoo.',
  'yandex.',
  'baidu.com',
  'ecosia.org',
  'search.brave.com',
  'startpage.com',
  'qwant.com',
  'naver.com',
  'seznam.cz',
  'ask.com',
  'aol.com',
  'sogou.com',
  'so.com',
  'kagi.com',
  'mojeek.com',
  'search.yahoo.com',
];

export const SOCIAL = [
  'facebook.com',
  'fb.com',
  'fb.me',
  'instagram.com',
  't.co',
  'twitter.com',
  'x.com',
  'linkedin.com',
  'lnkd.in',
  'reddit.com',
  'pinterest.',
  'tiktok.com',
  'youtube.com',
  'youtu.be',
  'news.ycombinator.com',
  'mastodon.social',
  'threads.net',
  'bsky.app',
  'vk.com',
  'weibo.com',
  'quora.com',
  'tumblr.com',
  'telegram.org',
  't.me',
  'whatsapp.com',
  'discord.com',
  'snapchat.com',
  'medium.com',
];

export const EMAIL = [
  'mail.google.com',
  'outlook.live.com',
  'outlook.office.com',
  'outlook.office365.com',
  'mail.yahoo.com',
  'mail.proton.me',
  'mail.aol.com',
  'webmail.',
  'fastmail.com',
  'mail.zoho.com',
];

export const AI = [
  'chat.openai.com',
  'chatgpt.com',
  'perplexity.ai',
  'claude.ai',
  'gemini.google.com',
  'bard.google.com',
  'copilot.microsoft.com',
  'you.com',
  'phind.com',
  'poe.com',
  'chat.deepseek.com',
  'deepseek.com',
  'chat.mistral.ai',
  'meta.ai',
  'grok.com',
];

export const SPAM = [
  'semalt.com',
  'buttons-for-website.com',
  'buttons-for-your-website.com',
  'darodar.com',
  'ilovevitaly.com',
  'priceg.com',
  'hulfingtonpost.com',
  'best-seo-offer.com',
  '4webmasters.org',
  'blackhatworth.com',
  'social-buttons.com',
  'free-share-buttons.com',
  'get-free-traffic-now.com',
  'trafficmonetize.com',
  'webmonetizer.net',
  'site-auditor.online',
  'seo-platform.com',
  'floating-share-buttons.com',
];

export function hostMatches(host: string, list: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/^www\./, '');
  return list.some((entry) => {
    if (entry.endsWith('.')) {
      // "google." matches google.com, google.co.uk, www.google.de
      const i = h.indexOf(entry);
      return i === 0 || (i > 0 && h[i - 1] === '.');
    }
    return h === entry || h.endsWith(`.${entry}`);
  });
}
