import { siteStats, statsQuerySchema } from '@/lib/analytics/stats';
import { readQuery } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/stats – summary, comparison and time series for a range and filters
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ req, site }) =>
  siteStats(site, readQuery(req, statsQuerySchema)),
);
