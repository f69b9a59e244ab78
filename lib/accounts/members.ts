import { z } from 'zod';
import { db } from '../db/client';
import type { MemberTeam } from '../auth/access';
import { isUuid } from '../auth/access';
import type { CurrentUser } from '../auth/current-user';
import { atLeast, ROLES, type Role } from '../auth/roles';
import { EddyError } from '../errors';

// Team membership. Rules: admins manage admins and viewers; only owners grant, change or remove
// the owner role; a team always keeps at least one owner; anyone may leave (but not the last
// owner). Removing a member bumps their session version, which ends all their sessions; their
// live sockets are dropped by the web process's access sweep (server/live-sockets.ts).

export const roleSchema = z.object({ role: z.enum(ROLES) });

export async function listMembers(team: MemberTeam) {
  const ms = await db().membership.findMany({
    where: { teamId: team.id },
    include: { user: { select: { id: true, email: true, name: true } } },
    orderBy: { createdAt: 'asc' },
  });
  return ms.map((m) => ({
    userId: m.user.id,
    email: m.user.email,
    name: m.user.name,
    role: m.role as Role,
    joinedAt: m.createdAt.toISOString(),
  }));
}

async function targetMembership(team: MemberTeam, userId: string) {
  if (!isUuid(userId)) throw new EddyError('not_found', 'Member not found');
  const m = await db().membership.findUnique({ where: { teamId_userId: { teamId: team.id, userId } } });
  if (!m) throw new EddyError('not_found', 'Member not found');
  return m;
}

async function ownerCount(teamId: string): Promise<number> {
  return db().membership.count({ where: { teamId, role: 'owner' } });
}

export async function changeRole(team: MemberTeam, userId: string, role: Role): Promise<void> {
  const target = await targetMembership(team, userId);
  if (!atLeast(team.role, 'admin')) throw new EddyError('forbidden', 'Your role cannot manage members');
  if ((target.role === 'owner' || role === 'owner') && team.role !== 'owner')
    throw new EddyError('forbidden', 'Only owners can grant or change the owner role');
  if (target.role === 'owner' && role !== 'owner' && (await ownerCount(team.id)) <= 1)
    throw new EddyError('bad_request', 'role: a team needs at least one owner');
  await db().membership.update({ where: { teamId_userId: { teamId: team.id, userId } }, data: { role } });
}

export async function removeMember(actor: CurrentUser, team: MemberTeam, userId: string): Promise<void> {
  const target = await targetMembership(team, userId);
  const self = userId === actor.id;
  if (!self && !atLeast(team.role, 'admin')) throw new EddyError('forbidden', 'Your role cannot remove members');
  if (!self && target.role === 'owner' && team.role !== 'owner')
    throw new EddyError('forbidden', 'Only owners can remove an owner');
  if (target.role === 'owner' && (await ownerCount(team.id)) <= 1)
    throw new EddyError('bad_request', 'A team needs at least one owner: make someone else owner first');
  await db().$transaction([
    db().membership.delete({ where: { teamId_userId: { teamId: team.id, userId } } }),
    db().user.update({ where: { id: userId }, data: { sessionVersion: { increment: 1 } } }),
  ]);
}
