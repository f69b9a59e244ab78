import type { MemberTeam } from '../auth/access';
import { ACCOUNT_LIMITS, createWithinLimit } from '../accounts/limits';
import { newSiteKey } from './site-key';
import { defaultAllowedHostnames, type CreateSiteInput } from './settings';

/** Adds a site to a team the caller administers (the caller passes the team the DAL returned). */
export async function createSite(team: MemberTeam, input: Omit<CreateSiteInput, 'teamId'>) {
  const allowed = input.allowedHostnames.length
    ? [...new Set(input.allowedHostnames)]
    : defaultAllowedHostnames(input.domain);
  const max = ACCOUNT_LIMITS.sitesPerTeam;
  return createWithinLimit(
    `sites:${team.id}`,
    max,
    `A team can have at most ${max} sites; delete one first`,
    (tx) => tx.site.count({ where: { teamId: team.id } }),
    (tx) =>
      tx.site.create({
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
          retentionDays: input.retentionDays,
          contentGroups: { create: input.contentGroups.map((g, position) => ({ ...g, position })) },
        },
      }),
  );
}
