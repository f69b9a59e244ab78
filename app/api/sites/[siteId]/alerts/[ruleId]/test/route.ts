import { testFire } from '@/lib/alerts/manage';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// POST /api/sites/:siteId/alerts/:ruleId/test – send a test notification through the rule's channels (rate-limited)
export const POST = siteRoute<{ siteId: string; ruleId: string }>('admin', async ({ site, params, user }) =>
  testFire(site.id, site.name, params.ruleId, user.id),
);
