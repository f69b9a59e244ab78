import { serverRequests } from '@/lib/analytics/server-requests';
import { statsQuerySchema } from '@/lib/analytics/stats';
import { readQuery } from '@/lib/http/parse';
import { shareRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/share/:token/server-requests – the shared site's server requests (read-only)
export const GET = shareRoute<{ token: string }>(async ({ req, link }) =>
  serverRequests(link.site, readQuery(req, statsQuerySchema)),
);
