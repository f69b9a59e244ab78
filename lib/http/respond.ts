import { isEddyError } from '../errors';

// The one place errors become HTTP responses. Known errors keep their message; anything else
// is logged and answered with a generic 500 that leaks nothing.

export function errorResponse(e: unknown, headers: Record<string, string> = {}): Response {
  if (isEddyError(e)) {
    const h: Record<string, string> = { ...headers };
    if (e.retryAfter) h['Retry-After'] = String(e.retryAfter);
    return Response.json({ error: { code: e.code, message: e.message } }, { status: e.status, headers: h });
  }
  console.error('[http] unexpected error', e);
  return Response.json({ error: { code: 'internal', message: 'Internal error' } }, { status: 500, headers });
}
