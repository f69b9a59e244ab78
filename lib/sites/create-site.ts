import { db } from '../db/client';
import type { MemberTeam } from '../auth/access';
import { newSiteKey } from './site-key';
import { defaultAllowedHostnames, type CreateSiteInput } from './settings';

/** Adds a site to a team the caller administers (the caller passes the team the DAL returned). */
export async function createSite(team: MemberTeam, input: Omit<CreateSiteInput, 'teamId'>) {
  const allowed = input.allowedHostnames.length ? [...new Set(input.allowedHostnames)] : defaultAllowedHostnames(input.domain);
  return db().site.create({
    data: {
      teamId: team.id,
      name: input.name,
      domain: input.domain,
      publicKey: newSiteKey(),
      allowedHostnames: allowed,
      timezone: input.timezone,
      sessionGapMinutes: input.sessionGapMinutes,
      saltRotation: input.saltRotation,
      respectDnt: input.respectDnt,
      contentGroups: { create: input.contentGroups.map((g, position) => ({ ...g, position })) },
    },
  });
}
