import { goalInputSchema } from '@/lib/goals/definition';
import { createGoal, listGoals } from '@/lib/goals/manage';
import { readJson } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/goals – the site's goals
export const GET = siteRoute<{ siteId: string }>('viewer', async ({ site }) => ({ goals: await listGoals(site.id) }));

// POST /api/sites/:siteId/goals – define a goal (counted from the archive's last 30 days on)
export const POST = siteRoute<{ siteId: string }>('admin', async ({ req, site }) => ({
  goal: await createGoal(site.id, await readJson(req, goalInputSchema)),
}));
