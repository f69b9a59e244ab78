import { revokeInvite } from '@/lib/accounts/invites';
import { teamRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// DELETE /api/teams/:teamId/invites/:inviteId – revoke a pending invitation (admin)
export const DELETE = teamRoute<{ teamId: string; inviteId: string }>('admin', async ({ team, params }) => {
  await revokeInvite(team, params.inviteId);
  return { ok: true };
});
