import { readQuery } from '@/lib/http/parse';
import { apiKeyRoute } from '@/lib/http/policy';
import { aggregateQuerySchema, aggregateStats } from '@/lib/public-api/stats';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /api/v1/stats/aggregate – the dashboard's tiles for a range and filters (stats:read key)
export const GET = apiKeyRoute<Record<string, never>>('stats:read', async ({ req, principal }) =>
  aggregateStats(principal.site, readQuery(req, aggregateQuerySchema, { onlyKnown: true })),
);
