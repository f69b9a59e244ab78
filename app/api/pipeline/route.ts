import { userRoute } from '@/lib/http/policy';
import { requireOperator } from '@/lib/pipeline/operators';
import { pipelineOverview } from '@/lib/pipeline/overview';

export const runtime = 'nodejs';

// GET /api/pipeline – jobs, partitions, lag, watermarks, checkpoints, workers, throughput
export const GET = userRoute(async ({ user }) => {
  requireOperator(user);
  return pipelineOverview();
});
