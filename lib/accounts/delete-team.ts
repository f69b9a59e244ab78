import { z } from 'zod';
import { db, pool } from '../db/client';
import type { MemberTeam } from '../auth/access';
import { EddyError } from '../errors';
import { eraseSite } from '../sites/site-data';

export const deleteTeamSchema = z.object({ confirm: z.string().max(300) });

/**
 * Deletes a team (owners only): every site's data first (lib/sites/site-data.ts), then the team
 * with its memberships and invitations. Members lose access at once: every access check reads
 * memberships. Returns the rows erased.
 */
export async function deleteTeam(
  team: MemberTeam,
  confirmation: string,
): Promise<{ sites: number; deletedRows: number }> {
  if (team.role !== 'owner') throw new EddyError('forbidden', 'Only owners can delete a team');
  if (confirmation.trim() !== team.name.trim())
    throw new EddyError('bad_request', 'confirm: type the team’s name to delete it');
  return eraseTeam(team.id);
}

/** Erases a team and all its sites' data, without checks (account deletion calls it for teams the user is alone in). */
export async function eraseTeam(teamId: string): Promise<{ sites: number; deletedRows: number }> {
  const sites = await db().site.findMany({ where: { teamId }, select: { id: true } });
  let deletedRows = 0;
  for (const s of sites) {
    const r = await eraseSite(pool(), s.id);
    deletedRows += Object.values(r.deleted).reduce((a, b) => a + b, 0);
  }
  const t = await db().team.deleteMany({ where: { id: teamId } });
  return { sites: sites.length, deletedRows: deletedRows + t.count };
}
