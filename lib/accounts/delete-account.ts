import { z } from 'zod';
import { db } from '../db/client';
import { attemptSucceeded, beginAttempt, retryAfterSeconds } from '../auth/attempts';
import type { CurrentUser } from '../auth/current-user';
import { PASSWORD_MAX_LENGTH, verifyPassword } from '../auth/password';
import { EddyError } from '../errors';
import { eraseTeam } from './delete-team';
import { MINUTE } from '@/lib/time';

// Account self-deletion. Rules (issue 16):
// - re-authentication: the current password, or for an account that has none (OAuth only) a
//   sign-in within the last RECENT_SIGN_IN_MS — a session left open on a shared computer is not
//   enough to erase an account;
// - a team's last owner must first hand ownership to someone else, or delete the team, when the
//   team has other members (their dashboards are not ours to take away); a team the user is
//   alone in is deleted with the account, sites and data included — what someone leaving expects;
// - every session ends: the user row is gone, so every session check fails (current-user.ts).
// Nothing keeps the user's id or email afterwards: notifications, sign-in attempts and the
// "created by" of invitations and share links are erased or cleared.

export const RECENT_SIGN_IN_MS = 10 * MINUTE;

export const deleteAccountSchema = z.object({
  password: z.string().max(PASSWORD_MAX_LENGTH).optional(),
  // The account's email, typed again.
  confirm: z.string().max(320),
});

export interface AccountDeletionPlan {
  /** Teams deleted with the account (the user is their only member). */
  deletes: { id: string; name: string; sites: number }[];
  /** Teams that stop the deletion: the user is their last owner and others remain. */
  blockers: { id: string; name: string }[];
}

export async function accountDeletionPlan(userId: string): Promise<AccountDeletionPlan> {
  const ms = await db().membership.findMany({
    where: { userId },
    include: {
      team: { include: { memberships: { select: { userId: true, role: true } }, _count: { select: { sites: true } } } },
    },
  });
  const plan: AccountDeletionPlan = { deletes: [], blockers: [] };
  for (const m of ms) {
    const others = m.team.memberships.filter((x) => x.userId !== userId);
    if (others.length === 0) plan.deletes.push({ id: m.team.id, name: m.team.name, sites: m.team._count.sites });
    else if (m.role === 'owner' && !others.some((x) => x.role === 'owner'))
      plan.blockers.push({ id: m.team.id, name: m.team.name });
  }
  return plan;
}

export async function deleteAccount(
  user: CurrentUser,
  input: z.infer<typeof deleteAccountSchema>,
  ip: string,
  now = Date.now(),
): Promise<{ teamsDeleted: number }> {
  if (input.confirm.trim().toLowerCase() !== user.email.toLowerCase())
    throw new EddyError('bad_request', 'confirm: type your email address to delete your account');
  const row = await db().user.findUniqueOrThrow({ where: { id: user.id }, select: { passwordHash: true } });
  if (row.passwordHash !== null) {
    const attempt = await beginAttempt('password', ip, user.id);
    if (!attempt.allowed)
      throw new EddyError('rate_limited', 'Too many wrong passwords; try again later', {
        retryAfter: retryAfterSeconds('password'),
      });
    if (!(await verifyPassword(input.password ?? '', row.passwordHash)))
      throw new EddyError('bad_request', 'password: is not correct');
    await attemptSucceeded('password', attempt, user.id);
  } else if (user.signedInAt === undefined || now - user.signedInAt > RECENT_SIGN_IN_MS) {
    throw new EddyError('unauthorized', 'Sign in again, then delete your account within 10 minutes');
  }
  const plan = await accountDeletionPlan(user.id);
  if (plan.blockers.length) {
    throw new EddyError(
      'bad_request',
      `You are the last owner of ${plan.blockers.map((t) => `“${t.name}”`).join(', ')}: make another member owner, or delete the team, first`,
    );
  }
  for (const t of plan.deletes) await eraseTeam(t.id);
  await db().$transaction([
    db().notification.deleteMany({ where: { userId: user.id } }),
    db().export.deleteMany({ where: { userId: user.id } }),
    db().import.updateMany({ where: { userId: user.id }, data: { userId: null } }),
    db().authAttempt.deleteMany({ where: { subject: { in: [user.id, user.email.toLowerCase(), user.email] } } }),
    db().invite.updateMany({ where: { createdById: user.id }, data: { createdById: null } }),
    db().invite.updateMany({ where: { acceptedBy: user.id }, data: { acceptedBy: null } }),
    db().invite.deleteMany({ where: { email: user.email.toLowerCase(), acceptedAt: null } }),
    db().shareLink.updateMany({ where: { createdById: user.id }, data: { createdById: null } }),
    // Memberships and OAuth identities cascade; with the row gone every session check fails.
    db().user.delete({ where: { id: user.id } }),
  ]);
  return { teamsDeleted: plan.deletes.length };
}
