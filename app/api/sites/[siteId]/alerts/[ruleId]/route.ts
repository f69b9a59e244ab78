import { deleteRule, rulePatchSchema, updateRule } from '@/lib/alerts/manage';
import { readJson } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// PATCH /api/sites/:siteId/alerts/:ruleId – edit, mute or unmute a rule
export const PATCH = siteRoute<{ siteId: string; ruleId: string }>('admin', async ({ req, site, params }) => ({
  rule: await updateRule(site.id, params.ruleId, await readJson(req, rulePatchSchema), site.role),
}));

// DELETE /api/sites/:siteId/alerts/:ruleId – delete a rule and its history
export const DELETE = siteRoute<{ siteId: string; ruleId: string }>('admin', async ({ site, params }) => {
  await deleteRule(site.id, params.ruleId);
});
