import { insightsExport } from '@/lib/insights/export';
import { insightsQuerySchema } from '@/lib/insights/report';
import { readQuery } from '@/lib/http/parse';
import { shareRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/share/:token/insights/export – an insights panel of the shared site as CSV
export const GET = shareRoute<{ token: string }>(async ({ req, link }) =>
  insightsExport(link.site, readQuery(req, insightsQuerySchema)),
);
