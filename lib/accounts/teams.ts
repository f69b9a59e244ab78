import { z } from 'zod';
import { db } from '../db/client';
import type { CurrentUser } from '../auth/current-user';
import type { MemberTeam } from '../auth/access';
import { ACCOUNT_LIMITS, createWithinLimit } from './limits';

export const teamNameSchema = z.object({ name: z.string().trim().min(1, 'is required').max(100) });

/** A new team, owned by its creator (up to ACCOUNT_LIMITS.teamsOwnedPerUser). */
export async function createTeam(user: CurrentUser, name: string) {
  const max = ACCOUNT_LIMITS.teamsOwnedPerUser;
  const team = await createWithinLimit(
    `teams:${user.id}`,
    max,
    `You can own at most ${max} teams; delete or hand over one first`,
    (tx) => tx.membership.count({ where: { userId: user.id, role: 'owner' } }),
    (tx) => tx.team.create({ data: { name, memberships: { create: { userId: user.id, role: 'owner' } } } }),
  );
  return { id: team.id, name: team.name, role: 'owner' as const };
}

export async function renameTeam(team: MemberTeam, name: string) {
  const t = await db().team.update({ where: { id: team.id }, data: { name } });
  return { id: t.id, name: t.name };
}
