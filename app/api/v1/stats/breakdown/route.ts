import { readQuery } from '@/lib/http/parse';
import { apiKeyRoute } from '@/lib/http/policy';
import { breakdownApiQuerySchema, breakdownStats } from '@/lib/public-api/stats';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /api/v1/stats/breakdown – one dimension's ranked rows, a page at a time (stats:read key)
export const GET = apiKeyRoute<Record<string, never>>('stats:read', async ({ req, principal }) =>
  breakdownStats(principal.site, readQuery(req, breakdownApiQuerySchema, { onlyKnown: true })),
);
