import { readJson } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';
import { setSlaTarget, slaReport } from '@/lib/sla/report';
import { slaInputSchema } from '@/lib/sla/targets';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/sla – target, current freshness, compliance and breaches
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ site }) => slaReport(site.id));

// PUT /api/sites/:siteId/sla – set the freshness target
export const PUT = siteRoute<{ siteId: string }>('admin', async ({ req, site }) => {
  const { targetMs } = await readJson(req, slaInputSchema);
  await setSlaTarget(site.id, targetMs);
  return slaReport(site.id);
});
