import { pool } from '@/lib/db/client';
import { createImport, importQuerySchema, listImports, readUpload } from '@/lib/imports/manage';
import { readQuery } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

type P = { siteId: string };

// GET /api/sites/:siteId/imports – imports into this site with progress and reports (admin)
export const GET = siteRoute<P>('admin', async ({ site }) => ({ imports: await listImports(pool(), site.id) }));

// POST /api/sites/:siteId/imports?source=plausible|umami|ga4&filename=… – the body is the export file; queued (admin)
export const POST = siteRoute<P>('admin', async ({ req, site, user }) => {
  const q = readQuery(req, importQuerySchema);
  return Response.json({ import: await createImport(pool(), site, user, q, await readUpload(req)) }, { status: 202 });
});
