import { readJson } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';
import { createShareLink, createShareLinkSchema, listShareLinks } from '@/lib/sites/share-links';

export const runtime = 'nodejs';

type P = { siteId: string };

// GET /api/sites/:siteId/share-links – the site's public links (admin)
export const GET = siteRoute<P>('admin', async ({ site }) => ({ links: await listShareLinks(site) }));

// POST /api/sites/:siteId/share-links – create a read-only public link, optionally with a password (admin)
export const POST = siteRoute<P>('admin', async ({ req, user, site }) => {
  const link = await createShareLink(site, user.id, await readJson(req, createShareLinkSchema));
  return Response.json({ link }, { status: 201 });
});
