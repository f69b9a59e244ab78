import { alertHistory } from '@/lib/alerts/manage';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/alerts/history – firings, resolutions and tests with their delivery log
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ site }) => ({
  history: await alertHistory(site.id, site.role),
}));
