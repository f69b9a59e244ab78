import type { IncomingHttpHeaders } from 'node:http';

// The client IP comes from the TCP connection, or, only when an operator configured it, from a
// proxy header they trust. The edge (server/index.ts) resolves it once and passes it to the
// route in a header it overwrites, so a client cannot inject its own.

export const CLIENT_IP_HEADER = 'x-eddy-client-ip';

export function resolveClientIp(
  headers: IncomingHttpHeaders,
  socketAddress: string | undefined,
  trustedHeader: string | undefined,
): string {
  if (trustedHeader) {
    const raw = headers[trustedHeader];
    const value = Array.isArray(raw) ? raw[0] : raw;
    // X-Forwarded-For lists the original client first.
    const first = value?.split(',')[0]?.trim();
    if (first) return first;
  }
  return socketAddress?.replace(/^::ffff:/, '') ?? '0.0.0.0';
}
