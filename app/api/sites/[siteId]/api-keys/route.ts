import { createApiKey, createApiKeySchema, listApiKeys } from '@/lib/api-keys/keys';
import { readJson } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

type P = { siteId: string };

// GET /api/sites/:siteId/api-keys – the site's API keys, prefixes only (admin)
export const GET = siteRoute<P>('admin', async ({ site }) => ({ apiKeys: await listApiKeys(site) }));

// POST /api/sites/:siteId/api-keys – create a key; the answer is the only place its value ever appears (admin)
export const POST = siteRoute<P>('admin', async ({ req, user, site }) =>
  Response.json(await createApiKey(site, user.id, await readJson(req, createApiKeySchema)), { status: 201 }),
);
