import { revokeApiKey } from '@/lib/api-keys/keys';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// DELETE /api/sites/:siteId/api-keys/:keyId – revoke a key; requests with it get 401 from then on (admin)
export const DELETE = siteRoute<{ siteId: string; keyId: string }>('admin', async ({ site, params }) => {
  await revokeApiKey(site, params.keyId);
  return { ok: true };
});
