import { siteRoute } from '@/lib/http/policy';
import { revokeShareLink } from '@/lib/sites/share-links';

export const runtime = 'nodejs';

// DELETE /api/sites/:siteId/share-links/:linkId – revoke a public link (admin)
export const DELETE = siteRoute<{ siteId: string; linkId: string }>('admin', async ({ site, params }) => {
  await revokeShareLink(site, params.linkId);
  return { ok: true };
});
