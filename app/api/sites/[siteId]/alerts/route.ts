import { createRule, listRules } from '@/lib/alerts/manage';
import { ruleInputSchema } from '@/lib/alerts/rules';
import { readJson } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/alerts – the site's alert rules with their current state
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ site }) => ({
  rules: await listRules(site.id, site.role),
}));

// POST /api/sites/:siteId/alerts – create a rule
export const POST = siteRoute<{ siteId: string }>('admin', async ({ req, site }) => ({
  rule: await createRule(site.id, await readJson(req, ruleInputSchema), site.role),
}));
