import { serverRequests } from '@/lib/analytics/server-requests';
import { statsQuerySchema } from '@/lib/analytics/stats';
import { readQuery } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/server-requests – server requests (@eddy/node) in a range, by path and status
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ req, site }) =>
  serverRequests(site, readQuery(req, statsQuerySchema)),
);
