import { breakdownExport } from '@/lib/analytics/export';
import { breakdownQuerySchema } from '@/lib/analytics/stats';
import { readQuery } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/export – one breakdown table as CSV
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ req, site }) => {
  const q = readQuery(req, breakdownQuerySchema);
  return breakdownExport(site, q, q.dimension);
});
