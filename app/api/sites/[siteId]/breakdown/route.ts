import { breakdownQuerySchema, siteBreakdown } from '@/lib/analytics/stats';
import { readQuery } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/breakdown – top values of one dimension for a range and filters
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ req, site }) => {
  const q = readQuery(req, breakdownQuerySchema);
  return siteBreakdown(site, q, q.dimension, q.limit);
});
