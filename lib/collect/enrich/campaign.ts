// UTM parameters and ad click ids from the landing URL.

export interface Campaign {
  utm?: { source?: string; medium?: string; campaign?: string; term?: string; content?: string };
  clickIds?: string[];
}

// Click ids that only paid ad clicks carry (fbclid is on every Facebook outbound link, so it is not here).
const PAID_CLICK_IDS = [
  'gclid',
  'gbraid',
  'wbraid',
  'dclid',
  'msclkid',
  'ttclid',
  'li_fat_id',
  'twclid',
  'epik',
  'rdt_cid',
];

export function campaignFrom(url: URL): Campaign {
  const q = url.searchParams;
  const utm: NonNullable<Campaign['utm']> = {};
  for (const k of ['source', 'medium', 'campaign', 'term', 'content'] as const) {
    const v = q.get(`utm_${k}`)?.trim();
    if (v) utm[k] = v.slice(0, 200);
  }
  const clickIds = PAID_CLICK_IDS.filter((id) => q.has(id));
  return { utm: Object.keys(utm).length ? utm : undefined, clickIds: clickIds.length ? clickIds : undefined };
}
