import { sitesForMember, teamForMember } from '@/lib/auth/access';
import { readJson } from '@/lib/http/parse';
import { userRoute } from '@/lib/http/policy';
import { createSite } from '@/lib/sites/create-site';
import { createSiteSchema } from '@/lib/sites/settings';
import { siteView } from '@/lib/sites/site-view';

export const runtime = 'nodejs';

// GET /api/sites – every site of every team the caller belongs to
export const GET = userRoute(async ({ user }) => {
  const sites = await sitesForMember(user.id);
  return {
    sites: sites.map((s) => ({
      id: s.id,
      name: s.name,
      domain: s.domain,
      teamId: s.teamId,
      teamName: s.teamName,
      role: s.role,
    })),
  };
});

// POST /api/sites – add a site to a team the caller administers
export const POST = userRoute(async ({ req, user }) => {
  const { teamId, ...input } = await readJson(req, createSiteSchema);
  const team = await teamForMember(user.id, teamId, 'admin');
  const site = await createSite(team, input);
  return Response.json({ site: await siteView({ ...site, teamName: team.name, role: team.role }) }, { status: 201 });
});
