import { listMembers } from '@/lib/accounts/members';
import { teamRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/teams/:teamId/members – members and roles
export const GET = teamRoute<{ teamId: string }>('viewer', async ({ team }) => ({ members: await listMembers(team) }));
