import { z } from 'zod';
import { readJson } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';
import { deleteSite } from '@/lib/sites/delete-site';
import { updateSiteSchema } from '@/lib/sites/settings';
import { siteView } from '@/lib/sites/site-view';
import { updateSite } from '@/lib/sites/update-site';

export const runtime = 'nodejs';

type P = { siteId: string };

// GET /api/sites/:siteId – settings and snippet
export const GET = siteRoute<P>('viewer', async ({ site }) => ({ site: await siteView(site) }));

// PATCH /api/sites/:siteId – change settings (admin); unknown fields (team, key, …) are ignored
export const PATCH = siteRoute<P>('admin', async ({ req, site }) => {
  const updated = await updateSite(site, await readJson(req, updateSiteSchema));
  return { site: await siteView({ ...updated, teamName: site.teamName, role: site.role }) };
});

// DELETE /api/sites/:siteId – delete the site and all its data (admin; body confirms the domain)
export const DELETE = siteRoute<P>('admin', async ({ req, site }) => {
  const { confirm } = await readJson(req, z.object({ confirm: z.string().max(300) }));
  return { ok: true, ...(await deleteSite(site, confirm)) };
});
