import { dayPeaksQuerySchema, sitePeaks } from '@/lib/analytics/peaks';
import { readQuery } from '@/lib/http/parse';
import { shareRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/share/:token/peaks – the shared site's peak windows of a day
export const GET = shareRoute<{ token: string }>(async ({ req, link }) =>
  sitePeaks(link.site, readQuery(req, dayPeaksQuerySchema)),
);
