import { teamsForMember } from '@/lib/auth/access';
import { createTeam, teamNameSchema } from '@/lib/accounts/teams';
import { readJson } from '@/lib/http/parse';
import { userRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/teams – the caller's teams with their role
export const GET = userRoute(async ({ user }) => ({ teams: await teamsForMember(user.id) }));

// POST /api/teams – create a team owned by the caller
export const POST = userRoute(async ({ req, user }) => {
  const { name } = await readJson(req, teamNameSchema);
  return Response.json({ team: await createTeam(user, name) }, { status: 201 });
});
