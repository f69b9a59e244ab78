import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { TrackInput } from './client.js';

// What a request becomes: a `request` event for Eddy's events API. Pure functions of the request
// line and headers, so every adapter (Express, node:http, Next.js) captures the same way.

export interface CaptureOptions {
  /**
   * Who may tell us the client's address. false (default): the socket's address. true: the
   * left-most address in X-Forwarded-For. A number n: the address n hops from the right of
   * X-Forwarded-For (your n proxies appended theirs). A header name (e.g. "cf-connecting-ip"):
   * that header. Never trust a header your own proxy does not overwrite.
   */
  trustProxy?: boolean | number | string;
  /** Skip requests from loopback addresses (local development). Default true. */
  skipLocalhost?: boolean;
  /** Skip static files (by extension and common asset folders). Default true. */
  skipStatic?: boolean;
  /** Your own rule: true skips the request. Runs after the built-in ones. */
  skip?: (r: { method: string; path: string; headers: IncomingHttpHeaders }) => boolean;
  /** Query parameters kept in the URL sent to Eddy (all others are stripped: they may carry tokens). Default none; "*" keeps the whole query. */
  keepQueryParams?: string[] | '*';
  /** The host to report when the request has no usable Host header. Default "localhost". */
  fallbackHost?: string;
}

const STATIC_EXTENSION =
  /\.(?:js|mjs|cjs|map|css|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot|mp4|webm|mp3|wav|ogg|pdf|zip|gz|txt|xml|webmanifest|wasm)$/i;
const STATIC_PREFIX = /^\/(?:_next\/static|_next\/image|static|assets|public|favicon)\b/i;
const HOST = /^[A-Za-z0-9.-]{1,253}(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;
const MAX_URL = 2000;

export function isStaticPath(path: string): boolean {
  return STATIC_PREFIX.test(path) || STATIC_EXTENSION.test(path);
}

export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.') || ip === 'localhost';
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The client's address under the trust setting; the socket's address when the header is absent or not an address. */
export function clientIp(
  headers: IncomingHttpHeaders,
  socketAddress: string | undefined,
  trustProxy: CaptureOptions['trustProxy'] = false,
): string {
  const socket = normaliseIp(socketAddress ?? '') ?? '0.0.0.0';
  if (trustProxy === false || trustProxy === undefined) return socket;
  if (typeof trustProxy === 'string')
    return normaliseIp(header(headers, trustProxy)?.split(',')[0]?.trim() ?? '') ?? socket;
  const hops = (header(headers, 'x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (hops.length === 0) return socket;
  const pick = trustProxy === true ? hops[0] : hops[Math.max(0, hops.length - trustProxy)];
  return normaliseIp(pick ?? '') ?? socket;
}

function normaliseIp(raw: string): string | null {
  const ip = raw.startsWith('::ffff:') && isIP(raw.slice(7)) === 4 ? raw.slice(7) : raw;
  return isIP(ip) ? ip : null;
}

/** Path and the query parameters allowed to leave this server. */
export function cleanPath(rawUrl: string, keep: CaptureOptions['keepQueryParams'] = []): string {
  const q = rawUrl.indexOf('?');
  const path = (q < 0 ? rawUrl : rawUrl.slice(0, q)).split('#')[0] || '/';
  if (q < 0 || (keep !== '*' && keep.length === 0)) return path.startsWith('/') ? path : `/${path}`;
  const params = new URLSearchParams(rawUrl.slice(q + 1));
  if (keep !== '*') for (const k of [...params.keys()]) if (!keep.includes(k)) params.delete(k);
  const query = params.toString();
  return `${path.startsWith('/') ? path : `/${path}`}${query ? `?${query}` : ''}`;
}

export interface RequestFacts {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  socketAddress: string | undefined;
  encrypted: boolean;
}

/** Whether to record the request at all (decided before the response, so skipped requests cost nothing). */
export function shouldSkip(f: RequestFacts, ip: string, o: CaptureOptions): boolean {
  const path = cleanPath(f.url);
  if ((o.skipLocalhost ?? true) && isLoopback(ip)) return true;
  if ((o.skipStatic ?? true) && isStaticPath(path)) return true;
  return o.skip?.({ method: f.method, path, headers: f.headers }) ?? false;
}

/** The `request` event for a finished response. */
export function requestEvent(
  f: RequestFacts,
  ip: string,
  status: number,
  durationMs: number,
  o: CaptureOptions,
): TrackInput {
  const hostHeader =
    header(f.headers, 'x-forwarded-host') && o.trustProxy
      ? header(f.headers, 'x-forwarded-host')
      : header(f.headers, 'host');
  const host = hostHeader && HOST.test(hostHeader) ? hostHeader.toLowerCase() : (o.fallbackHost ?? 'localhost');
  const proto =
    o.trustProxy && header(f.headers, 'x-forwarded-proto') === 'https' ? 'https' : f.encrypted ? 'https' : 'http';
  const origin = `${proto}://${host}`;
  const url = `${origin}${cleanPath(f.url, o.keepQueryParams)}`.slice(0, MAX_URL);
  const referrer = header(f.headers, 'referer');
  return {
    name: 'request',
    url,
    referrer: referrer && /^https?:\/\//i.test(referrer) && referrer.length <= MAX_URL ? referrer : undefined,
    ip,
    user_agent: (header(f.headers, 'user-agent') ?? '').slice(0, 1000),
    request: {
      method: /^[A-Za-z]{1,16}$/.test(f.method) ? f.method.toUpperCase() : 'OTHER',
      status: status >= 100 && status <= 599 ? status : 500,
      duration_ms: Math.max(0, Math.round(durationMs * 1000) / 1000),
    },
  };
}
