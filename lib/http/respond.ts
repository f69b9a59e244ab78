import { isEddyError } from '../errors';

// The one place errors become HTTP responses. Known errors keep their message; anything else
// is logged and answered with a generic 500 that leaks nothing.

/** An HTTP answer as data, for transports that are not fetch Responses (lib/collect/node-handler.ts). */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  /** Sent as JSON; undefined sends no body. */
  body?: unknown;
}

export function errorReply(e: unknown, headers: Record<string, string> = {}): Reply {
  if (isEddyError(e)) {
    const h: Record<string, string> = { ...headers };
    if (e.retryAfter) h['Retry-After'] = String(e.retryAfter);
    return { status: e.status, headers: h, body: { error: { code: e.code, message: e.message } } };
  }
  console.error('[http] unexpected error', e);
  return { status: 500, headers, body: { error: { code: 'internal', message: 'Internal error' } } };
}

export function errorResponse(e: unknown, headers: Record<string, string> = {}): Response {
  return toResponse(errorReply(e, headers));
}

export function toResponse(reply: Reply): Response {
  if (reply.body === undefined) return new Response(null, { status: reply.status, headers: reply.headers });
  return Response.json(reply.body, { status: reply.status, headers: reply.headers });
}
