import { insightsQuerySchema, siteInsights } from '@/lib/insights/report';
import { readQuery } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/insights – custom events, properties, outbound/downloads/404/engagement, goals or funnels for a range
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ req, site }) =>
  siteInsights(site, readQuery(req, insightsQuerySchema)),
);
