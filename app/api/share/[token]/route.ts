import { publicRoute } from '@/lib/http/policy';
import { shareLinkByToken } from '@/lib/sites/share-links';

export const runtime = 'nodejs';

// GET /api/share/:token – the shared site's name and whether a password is needed
export const GET = publicRoute<{ token: string }>(async ({ params }) => {
  const link = await shareLinkByToken(params.token);
  return {
    site: { name: link.site.name, domain: link.site.domain, timezone: link.site.timezone },
    locked: link.passwordHash !== null,
  };
});
