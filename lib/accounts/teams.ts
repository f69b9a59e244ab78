import { z } from 'zod';
import { db } from '../db/client';
import type { CurrentUser } from '../auth/current-user';
import type { MemberTeam } from '../auth/access';

export const teamNameSchema = z.object({ name: z.string().trim().min(1, 'is required').max(100) });

/** A new team, owned by its creator. */
export async function createTeam(user: CurrentUser, name: string) {
  const team = await db().team.create({ data: { name, memberships: { create: { userId: user.id, role: 'owner' } } } });
  return { id: team.id, name: team.name, role: 'owner' as const };
}

export async function renameTeam(team: MemberTeam, name: string) {
  const t = await db().team.update({ where: { id: team.id }, data: { name } });
  return { id: t.id, name: t.name };
}
