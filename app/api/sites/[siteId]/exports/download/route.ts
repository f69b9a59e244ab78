import { pool } from '@/lib/db/client';
import { exportBody, exportFilename, exportRange, exportRequestSchema } from '@/lib/exports/background';
import { textStream } from '@/lib/exports/stream';
import { readQuery } from '@/lib/http/parse';
import { siteRoute } from '@/lib/http/policy';

export const runtime = 'nodejs';

// GET /api/sites/:siteId/exports/download?kind=events|rollups&format=csv|ndjson&from=&to= – streamed now (owner)
export const GET = siteRoute<{ siteId: string }>('owner', async ({ req, site }) => {
  const q = readQuery(req, exportRequestSchema);
  const body = textStream(exportBody(pool(), site.id, q.kind, q.format, exportRange(site.timezone, q.from, q.to)));
  return new Response(body, {
    headers: {
      'Content-Type': q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="${exportFilename(site.domain, q.kind, q.format, q.from, q.to)}"`,
    },
  });
});
