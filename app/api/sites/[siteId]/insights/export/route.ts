import { insightsExport } from '@/lib/insights/export';
import { insightsQuerySchema } from '@/lib/insights/report';
import { readQuery } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/insights/export – one insights panel as CSV
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ req, site }) =>
  insightsExport(site, readQuery(req, insightsQuerySchema)),
);
