import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';

// Device, browser and OS from ua-parser-js; bots from isbot (its pattern list is maintained
// upstream). An empty user agent is treated as a bot: every real browser sends one.

export interface UserAgentInfo {
  bot: boolean;
  device: 'desktop' | 'mobile' | 'tablet' | 'other';
  browser: string;
  os: string;
}

const cache = new Map<string, UserAgentInfo>();

export function parseUserAgent(ua: string): UserAgentInfo {
  const hit = cache.get(ua);
  if (hit) return hit;
  const r = new UAParser(ua).getResult();
  const type = r.device.type;
  const info: UserAgentInfo = {
    bot: ua.trim() === '' || isbot(ua),
    device:
      type === 'mobile'
        ? 'mobile'
        : type === 'tablet'
          ? 'tablet'
          : type === undefined
            ? r.os.name
              ? 'desktop'
              : 'other'
            : 'other',
    browser: (r.browser.name ?? 'Unknown').slice(0, 60),
    os: (r.os.name ?? 'Unknown').slice(0, 60),
  };
  // Real traffic has few distinct user agents; the bound keeps a flood of random ones harmless.
  if (cache.size > 5000) cache.clear();
  cache.set(ua, info);
  return info;
}
