import { breakdownQuerySchema, siteBreakdown } from '@/lib/analytics/stats';
import { readQuery } from '@/lib/http/parse';
import { shareRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/share/:token/breakdown – a breakdown table of the shared site (read-only)
export const GET = shareRoute<{ token: string }>(async ({ req, link }) => {
  const q = readQuery(req, breakdownQuerySchema);
  return siteBreakdown(link.site, q, q.dimension, q.limit);
});
