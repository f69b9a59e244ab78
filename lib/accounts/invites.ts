import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { db } from '../db/client';
import type { MemberTeam } from '../auth/access';
import { isUuid } from '../auth/access';
import type { CurrentUser } from '../auth/current-user';
import { atLeast, ROLES, type Role } from '../auth/roles';
import { env, publicUrl } from '../env';
import { EddyError } from '../errors';
import { sendEmail } from '../notify/channels';
import { ACCOUNT_LIMITS, createWithinLimit } from './limits';

// Invitations by link: the token is shown once to the inviter and only its SHA-256 is stored.
// Single use, valid 7 days, revocable. With an email address and SMTP configured (SMTP_URL),
// the link is also mailed; the inviter always gets the link to share themselves.
// Who may accept is chosen at creation and stored: the account with the invite's email address
// (the default — a forwarded or leaked link is useless to anyone else), or, when the inviter
// says so explicitly (anyoneWithLink), whoever holds the link.

export const INVITE_TTL_MS = 7 * 24 * 3600_000;

export const createInviteSchema = z
  .object({
    role: z.enum(ROLES).default('viewer'),
    email: z
      .email()
      .max(320)
      .transform((e) => e.trim().toLowerCase())
      .optional(),
    anyoneWithLink: z.boolean().default(false),
  })
  .refine((i) => i.email !== undefined || i.anyoneWithLink, {
    path: ['email'],
    message:
      'is required unless anyoneWithLink is true (an invitation without an address can be accepted by anyone who has the link)',
  });

/** "a•••@example.com": enough for the holder of a link to know which account to use, no more. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return at <= 0 ? '•••' : `${email[0]}•••${email.slice(at)}`;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export async function createInvite(
  actor: CurrentUser,
  team: MemberTeam,
  input: z.infer<typeof createInviteSchema>,
  now = Date.now(),
) {
  if (input.role === 'owner' && team.role !== 'owner')
    throw new EddyError('forbidden', 'Only owners can invite owners');
  if (!input.email && !input.anyoneWithLink)
    throw new EddyError('bad_request', 'email: is required unless anyoneWithLink is true');
  const token = randomBytes(24).toString('base64url');
  const max = ACCOUNT_LIMITS.pendingInvitesPerTeam;
  const pending = { teamId: team.id, acceptedAt: null, expiresAt: { gt: new Date(now) } };
  const invite = await createWithinLimit(
    `invites:${team.id}`,
    max,
    `A team can have at most ${max} pending invitations; revoke one or wait for some to be accepted`,
    (tx) => tx.invite.count({ where: pending }),
    (tx) =>
      tx.invite.create({
        data: {
          teamId: team.id,
          role: input.role,
          email: input.email ?? null,
          anyoneWithLink: input.anyoneWithLink,
          tokenHash: hashToken(token),
          createdById: actor.id,
          expiresAt: new Date(now + INVITE_TTL_MS),
        },
      }),
  );
  let emailed = false;
  if (invite.email && env().SMTP_URL) {
    const link = `${publicUrl()}/invite/${token}`;
    const teamName = team.name;
    const sent = await sendEmail(
      [invite.email],
      `You're invited to ${teamName} on Eddy`,
      `${actor.name ?? actor.email} invited you to join ${teamName} on Eddy as ${invite.role}.\n\nAccept within 7 days: ${link}\n`,
    );
    emailed = sent.ok;
    if (!sent.ok) console.error(`[invites] email to ${invite.email} failed: ${sent.error}`);
  }
  return {
    id: invite.id,
    token,
    role: invite.role as Role,
    email: invite.email,
    anyoneWithLink: invite.anyoneWithLink,
    emailed,
    expiresAt: invite.expiresAt.toISOString(),
  };
}

export async function listInvites(team: MemberTeam, now = Date.now()) {
  const invites = await db().invite.findMany({
    where: { teamId: team.id, acceptedAt: null, expiresAt: { gt: new Date(now) } },
    orderBy: { createdAt: 'asc' },
  });
  return invites.map((i) => ({
    id: i.id,
    role: i.role as Role,
    email: i.email,
    anyoneWithLink: i.anyoneWithLink,
    createdAt: i.createdAt.toISOString(),
    expiresAt: i.expiresAt.toISOString(),
  }));
}

export async function revokeInvite(team: MemberTeam, inviteId: string): Promise<void> {
  if (!isUuid(inviteId)) throw new EddyError('not_found', 'Invite not found');
  const r = await db().invite.deleteMany({ where: { id: inviteId, teamId: team.id } });
  if (r.count === 0) throw new EddyError('not_found', 'Invite not found');
}

const TOKEN = /^[A-Za-z0-9_-]{20,64}$/;

async function openInvite(token: string, now: number) {
  if (!TOKEN.test(token)) throw new EddyError('not_found', 'This invitation is not valid');
  const invite = await db().invite.findUnique({
    where: { tokenHash: hashToken(token) },
    include: { team: { select: { id: true, name: true } } },
  });
  if (!invite || invite.acceptedAt || invite.expiresAt.getTime() <= now)
    throw new EddyError('not_found', 'This invitation is not valid (used, revoked or expired)');
  return invite;
}

/** Null when the user may accept the invite; otherwise why not, in words for the user. */
function acceptRefusal(invite: { email: string | null; anyoneWithLink: boolean }, userEmail: string): string | null {
  if (invite.anyoneWithLink || (invite.email !== null && invite.email === userEmail.trim().toLowerCase())) return null;
  const to = invite.email ? maskEmail(invite.email) : 'another address';
  return `This invitation is for ${to}, and you are signed in as ${userEmail}. Sign in with that address to accept it, or ask for an invitation to ${userEmail}.`;
}

/**
 * What an invite link offers, for the accept page; 404 when unknown, used or expired. `forEmail`
 * is the (masked) address it is bound to, null for "anyone with the link"; with `viewerEmail`,
 * `refusal` says why that account cannot accept it.
 */
export async function inviteByToken(token: string, now = Date.now(), viewerEmail?: string) {
  const invite = await openInvite(token, now);
  return {
    id: invite.id,
    teamId: invite.team.id,
    teamName: invite.team.name,
    role: invite.role as Role,
    forEmail: invite.anyoneWithLink || !invite.email ? null : maskEmail(invite.email),
    refusal: viewerEmail === undefined ? null : acceptRefusal(invite, viewerEmail),
  };
}

/** Joins the team with the invite's role (keeping a stronger existing role); the link is then used up. */
export async function acceptInvite(user: CurrentUser, token: string, now = Date.now()) {
  const invite = await inviteByToken(token, now, user.email);
  // Refused before the claim below: a wrong account does not use the invitation up.
  if (invite.refusal) throw new EddyError('forbidden', invite.refusal);
  return db().$transaction(async (tx) => {
    // Claim the invite first: of two concurrent accepts, only one updates the row.
    const claimed = await tx.invite.updateMany({
      where: { id: invite.id, acceptedAt: null },
      data: { acceptedAt: new Date(now), acceptedBy: user.id },
    });
    if (claimed.count === 0)
      throw new EddyError('not_found', 'This invitation is not valid (used, revoked or expired)');
    const existing = await tx.membership.findUnique({
      where: { teamId_userId: { teamId: invite.teamId, userId: user.id } },
    });
    if (!existing) await tx.membership.create({ data: { teamId: invite.teamId, userId: user.id, role: invite.role } });
    else if (!atLeast(existing.role as Role, invite.role))
      await tx.membership.update({
        where: { teamId_userId: { teamId: invite.teamId, userId: user.id } },
        data: { role: invite.role },
      });
    return { teamId: invite.teamId, teamName: invite.teamName };
  });
}
