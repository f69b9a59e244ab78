import { ingestApiEvents, parseApiEvents } from '@/lib/collect/api-events';
import { MAX_BODY_BYTES } from '@/lib/collect/ingest';
import { readBodyCapped } from '@/lib/http/read-body';
import { apiKeyRoute, requireKeySite } from '@/lib/http/policy';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// POST /api/v1/events – a batch of server-sent events (events:write key); 202 once the bus has them
export const POST = apiKeyRoute<Record<string, never>>('events:write', async ({ req, principal }) => {
  const now = Date.now();
  const body = parseApiEvents(principal.site.id, await readBodyCapped(req, MAX_BODY_BYTES), now);
  requireKeySite(principal, body.site_id);
  return Response.json(await ingestApiEvents(principal.site.publicKey, body, now), { status: 202 });
});
