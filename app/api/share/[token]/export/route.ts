import { breakdownExport } from '@/lib/analytics/export';
import { breakdownQuerySchema } from '@/lib/analytics/stats';
import { readQuery } from '@/lib/http/parse';
import { shareRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/share/:token/export – a breakdown table of the shared site as CSV
export const GET = shareRoute<{ token: string }>(async ({ req, link }) => {
  const q = readQuery(req, breakdownQuerySchema);
  return breakdownExport(link.site, q, q.dimension);
});
