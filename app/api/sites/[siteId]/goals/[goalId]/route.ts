import { deleteGoal } from '@/lib/goals/manage';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// DELETE /api/sites/:siteId/goals/:goalId – delete a goal and its conversions
export const DELETE = siteRoute<{ siteId: string; goalId: string }>('admin', async ({ site, params }) => {
  await deleteGoal(site.id, params.goalId);
});
