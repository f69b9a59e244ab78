import { dayPeaksQuerySchema, sitePeaks } from '@/lib/analytics/peaks';
import { readQuery } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/peaks – a day's busiest windows, whole site and per content group
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ req, site }) =>
  sitePeaks(site, readQuery(req, dayPeaksQuerySchema)),
);
