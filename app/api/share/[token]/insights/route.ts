import { insightsQuerySchema, siteInsights } from '@/lib/insights/report';
import { readQuery } from '@/lib/http/parse';
import { shareRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/share/:token/insights – an insights panel of the shared site (read-only)
export const GET = shareRoute<{ token: string }>(async ({ req, link }) =>
  siteInsights(link.site, readQuery(req, insightsQuerySchema)),
);
