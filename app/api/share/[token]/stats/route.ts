import { siteStats, statsQuerySchema } from '@/lib/analytics/stats';
import { readQuery } from '@/lib/http/parse';
import { shareRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/share/:token/stats – the shared site's summary and time series (read-only)
export const GET = shareRoute<{ token: string }>(async ({ req, link }) =>
  siteStats(link.site, readQuery(req, statsQuerySchema)),
);
