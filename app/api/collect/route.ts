import { CLIENT_IP_HEADER } from '@/lib/collect/client-ip';
import { answerCollect } from '@/lib/collect/endpoint';
import { requestBody } from '@/lib/http/read-body';
import { toResponse } from '@/lib/http/respond';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// A shim over lib/collect/endpoint.ts, which also answers on plain node:http
// (lib/collect/node-handler.ts): status codes, bodies and CORS are the endpoint's, not this file's.
async function collect(req: Request): Promise<Response> {
  const reply = await answerCollect({
    method: req.method,
    header: (name) => req.headers.get(name) ?? undefined,
    body: requestBody(req),
    // Set by server/index.ts from the connection or the trusted proxy header (lib/collect/client-ip.ts).
    ip: req.headers.get(CLIENT_IP_HEADER) ?? '0.0.0.0',
    aborted: () => req.signal.aborted,
  });
  // null: the client went away; nobody reads this answer.
  return reply ? toResponse(reply) : new Response(null, { status: 400 });
}

// POST /api/collect – accept a tracker event; 202 once the bus has it (or it was dropped on purpose)
export const POST = collect;
// OPTIONS /api/collect – CORS preflight (the tracker sends text/plain and needs none)
export const OPTIONS = collect;
// Other methods get the endpoint's own 405 (with CORS and Allow), not Next.js' bare one.
export const GET = collect;
export const PUT = collect;
export const PATCH = collect;
export const DELETE = collect;
