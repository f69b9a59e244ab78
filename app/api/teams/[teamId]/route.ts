import { deleteTeam, deleteTeamSchema } from '@/lib/accounts/delete-team';
import { renameTeam, teamNameSchema } from '@/lib/accounts/teams';
import { readJson } from '@/lib/http/parse';
import { teamRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

type P = { teamId: string };

// GET /api/teams/:teamId – the team and the caller's role
export const GET = teamRoute<P>('viewer', async ({ team }) => ({
  team: { id: team.id, name: team.name, role: team.role },
}));

// PATCH /api/teams/:teamId – rename (admin)
export const PATCH = teamRoute<P>('admin', async ({ req, team }) => ({
  team: await renameTeam(team, (await readJson(req, teamNameSchema)).name),
}));

// DELETE /api/teams/:teamId – delete the team, its sites and all their data (owner; body confirms the name)
export const DELETE = teamRoute<P>('owner', async ({ req, team }) => ({
  ok: true,
  ...(await deleteTeam(team, (await readJson(req, deleteTeamSchema)).confirm)),
}));
