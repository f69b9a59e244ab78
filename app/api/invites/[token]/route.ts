import { acceptInvite, inviteByToken } from '@/lib/accounts/invites';
import { publicRoute, userRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

type P = { token: string };

// GET /api/invites/:token – what the invitation offers (team name, role, masked address it is for)
export const GET = publicRoute<P>(async ({ params }) => {
  const i = await inviteByToken(params.token);
  return { invite: { teamName: i.teamName, role: i.role, forEmail: i.forEmail } };
});

// POST /api/invites/:token – accept: join the team (single use; 403 for an account the invite is not for)
export const POST = userRoute<P>(async ({ user, params }) => ({ team: await acceptInvite(user, params.token) }));
