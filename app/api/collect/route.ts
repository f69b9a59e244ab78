import { CLIENT_IP_HEADER } from '@/lib/collect/client-ip';
import { ingest, MAX_BODY_BYTES } from '@/lib/collect/ingest';
import { readBodyCapped } from '@/lib/http/read-body';
import { errorResponse } from '@/lib/http/respond';
import { env } from '@/lib/env';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// Any site may post here; no credentials, and the session cookie is never read.
const cors = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '86400',
};

// OPTIONS /api/collect – CORS preflight (the tracker sends text/plain and needs none)
export function OPTIONS(): Response {
  return new Response(null, { status: 204, headers: cors });
}

// POST /api/collect – accept a tracker event; 202 once the bus has it (or it was dropped on purpose)
export async function POST(req: Request): Promise<Response> {
  try {
    const body = await readBodyCapped(req, MAX_BODY_BYTES);
    const countryHeader = env().TRUSTED_COUNTRY_HEADER;
    await ingest({
      body,
      ip: req.headers.get(CLIENT_IP_HEADER) ?? '0.0.0.0',
      userAgent: req.headers.get('user-agent') ?? '',
      countryHeader: countryHeader ? req.headers.get(countryHeader) : null,
      now: Date.now(),
    });
    // Same answer whether events were accepted or dropped on purpose: bots learn nothing.
    return Response.json({ ok: true }, { status: 202, headers: cors });
  } catch (e) {
    return errorResponse(e, cors);
  }
}
