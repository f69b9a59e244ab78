import { readQuery } from '@/lib/http/parse';
import { apiKeyRoute } from '@/lib/http/policy';
import { timeseriesQuerySchema, timeseriesStats } from '@/lib/public-api/stats';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /api/v1/stats/timeseries – the dashboard's chart points: local hours or days (stats:read key)
export const GET = apiKeyRoute<Record<string, never>>('stats:read', async ({ req, principal }) =>
  timeseriesStats(principal.site, readQuery(req, timeseriesQuerySchema, { onlyKnown: true })),
);
