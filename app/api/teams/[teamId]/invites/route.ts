import { createInvite, createInviteSchema, listInvites } from '@/lib/accounts/invites';
import { publicUrl } from '@/lib/env';
import { readJson } from '@/lib/http/parse';
import { teamRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

type P = { teamId: string };

// GET /api/teams/:teamId/invites – pending invitations (admin)
export const GET = teamRoute<P>('admin', async ({ team }) => ({ invites: await listInvites(team) }));

// POST /api/teams/:teamId/invites – create an invitation link (shown once; admin)
export const POST = teamRoute<P>('admin', async ({ req, user, team }) => {
  const invite = await createInvite(user, team, await readJson(req, createInviteSchema));
  return Response.json({ invite: { ...invite, url: `${publicUrl()}/invite/${invite.token}` } }, { status: 201 });
});
