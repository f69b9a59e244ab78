import type { Channel } from '../../events/record';
import type { Campaign } from './campaign';
import { AI, EMAIL, hostMatches, SEARCH, SOCIAL } from './referrer-lists';

// Where a visit came from, in the channels site owners think in. UTM tags win over the
// referrer because the marketer set them on purpose.

const PAID_MEDIUMS = /^(cpc|ppc|cpm|cpv|paid.*|display|banner|retargeting|affiliate)$/i;
const EMAIL_MEDIUMS = /^(e-?mail|newsletter)$/i;
const SOCIAL_MEDIUMS = /^(social|social-?network|social-?media|sm)$/i;

/** Host without a leading "www.": www.shop.test and shop.test are one site. */
const bare = (host: string) => host.toLowerCase().replace(/^www\./, '');

/**
 * `siteHosts`: the site's own hostnames (its allowed list). A navigation from any of them — an
 * SPA's own route changes, a shop's checkout subdomain — is internal: it is not a source.
 */
export function classifyChannel(input: {
  pageHost: string;
  referrerHost?: string;
  campaign: Campaign;
  siteHosts?: readonly string[];
}): Channel {
  const medium = input.campaign.utm?.medium;
  if (input.campaign.clickIds?.length || (medium && PAID_MEDIUMS.test(medium))) return 'paid';
  if (medium && EMAIL_MEDIUMS.test(medium)) return 'email';
  if (medium && SOCIAL_MEDIUMS.test(medium)) return 'social';
  const ref = input.referrerHost;
  if (!ref) {
    const source = input.campaign.utm?.source;
    return source ? (classifyHost(source) ?? 'referral') : 'direct';
  }
  if (bare(ref) === bare(input.pageHost) || input.siteHosts?.some((h) => bare(h) === bare(ref))) return 'internal';
  return classifyHost(ref) ?? 'referral';
}

function classifyHost(host: string): Channel | null {
  // AI before search: gemini.google.com must not count as Google search.
  if (hostMatches(host, AI)) return 'ai';
  if (hostMatches(host, EMAIL)) return 'email';
  if (hostMatches(host, SEARCH)) return 'search';
  if (hostMatches(host, SOCIAL)) return 'social';
  return null;
}
