import { funnelInputSchema } from '@/lib/funnels/definition';
import { createFunnel, listFunnels } from '@/lib/funnels/manage';
import { readJson } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/funnels – the site's funnels
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ site }) => ({
  funnels: await listFunnels(site.id),
}));

// POST /api/sites/:siteId/funnels – define a funnel (counted from now on; `npm run worker -- replay` backfills)
export const POST = siteRoute<{ siteId: string }>('admin', async ({ req, site }) => ({
  funnel: await createFunnel(site.id, await readJson(req, funnelInputSchema)),
}));
