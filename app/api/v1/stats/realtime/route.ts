import { readQuery } from '@/lib/http/parse';
import { apiKeyRoute } from '@/lib/http/policy';
import { realtimeQuerySchema, realtimeStats } from '@/lib/public-api/stats';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// GET /api/v1/stats/realtime – current visitors, as on the live header (stats:read key)
export const GET = apiKeyRoute<Record<string, never>>('stats:read', async ({ req, principal }) => {
  readQuery(req, realtimeQuerySchema, { onlyKnown: true });
  return realtimeStats(principal.site);
});
