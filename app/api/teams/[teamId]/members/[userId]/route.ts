import { changeRole, removeMember, roleSchema } from '@/lib/accounts/members';
import { readJson } from '@/lib/http/parse';
import { teamRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

type P = { teamId: string; userId: string };

// PATCH /api/teams/:teamId/members/:userId – change a member's role (admin; owner role: owners)
export const PATCH = teamRoute<P>('admin', async ({ req, team, params }) => {
  const { role } = await readJson(req, roleSchema);
  await changeRole(team, params.userId, role);
  return { ok: true };
});

// DELETE /api/teams/:teamId/members/:userId – remove a member, or leave (own id); ends their sessions
export const DELETE = teamRoute<P>('viewer', async ({ user, team, params }) => {
  await removeMember(user, team, params.userId);
  return { ok: true };
});
