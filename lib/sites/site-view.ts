import type { Role } from '../auth/roles';
import { publicUrl } from '../env';
import { snippetFor } from './settings';
import { contentGroupsOf } from './update-site';

// What the API returns for a site: settings, the caller's role and the snippet.

interface SiteRow {
  id: string;
  teamId: string;
  name: string;
  domain: string;
  publicKey: string;
  allowedHostnames: string[];
  timezone: string;
  sessionGapMinutes: number;
  saltRotation: string;
  respectDnt: boolean;
  retentionDays: number | null;
  createdAt: Date;
}

export async function siteView(site: SiteRow & { teamName?: string; role?: Role }) {
  return {
    id: site.id,
    teamId: site.teamId,
    teamName: site.teamName,
    role: site.role,
    name: site.name,
    domain: site.domain,
    allowedHostnames: site.allowedHostnames,
    timezone: site.timezone,
    sessionGapMinutes: site.sessionGapMinutes,
    saltRotation: site.saltRotation,
    respectDnt: site.respectDnt,
    retentionDays: site.retentionDays,
    contentGroups: (await contentGroupsOf(site.id)).map((g) => ({ name: g.name, pattern: g.pattern })),
    snippet: snippetFor(site, publicUrl()),
    createdAt: site.createdAt.toISOString(),
  };
}
