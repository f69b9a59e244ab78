import { deleteFunnel } from '@/lib/funnels/manage';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// DELETE /api/sites/:siteId/funnels/:funnelId – delete a funnel and its attempts
export const DELETE = siteRoute<{ siteId: string; funnelId: string }>('admin', async ({ site, params }) => {
  await deleteFunnel(site.id, params.funnelId);
});
