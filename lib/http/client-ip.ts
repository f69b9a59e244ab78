import { CLIENT_IP_HEADER } from '../collect/client-ip';

/** The client IP the web server resolved for this request (server/index.ts overwrites the header). */
export function requestIp(headers: Headers | Record<string, string | string[] | undefined>): string {
  const v = headers instanceof Headers ? headers.get(CLIENT_IP_HEADER) : headers[CLIENT_IP_HEADER];
  const ip = Array.isArray(v) ? v[0] : v;
  return ip && ip.length <= 64 ? ip : 'unknown';
}
