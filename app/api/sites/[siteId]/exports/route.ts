import { pool } from '@/lib/db/client';
import { exportRequestSchema, listExports, requestExport } from '@/lib/exports/background';
import { readJson } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

type P = { siteId: string };

// GET /api/sites/:siteId/exports – the caller's background exports of this site (owner)
export const GET = siteRoute<P>('owner', async ({ site, user }) => ({
  exports: await listExports(pool(), site, user),
}));

// POST /api/sites/:siteId/exports – prepare an export in the background; notifies when ready (owner)
export const POST = siteRoute<P>('owner', async ({ req, site, user }) =>
  Response.json(
    { export: await requestExport(pool(), site, user, await readJson(req, exportRequestSchema)) },
    { status: 202 },
  ),
);
