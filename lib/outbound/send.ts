import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { EddyError } from '../errors';
import { outboundDeps, resolveTarget, type OutboundDeps, type Target } from './resolve-target';

// The only way Eddy sends a request to a URL a user typed (alert webhooks, Slack). Each hop is
// checked by resolveTarget and the socket connects to the address that was checked (a `lookup`
// that answers with it), so a DNS answer that changes after the check (rebinding) is never
// used. Redirects are followed by hand, each hop checked the same way, at most MAX_REDIRECTS.
// A refused target throws an EddyError (bad_request): permanent, never retried; network
// failures throw plain errors: transient.

export const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface OutboundRequest {
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
  /** For the whole exchange, redirects included. */
  timeoutMs: number;
}

export interface OutboundResponse {
  status: number;
  /** The URL that gave the final answer (after redirects). */
  url: string;
}

/** Answers every lookup of the request's socket with the checked address. */
function pinnedLookup(t: Target): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all)
      (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address: t.address, family: t.family },
      ]);
    else callback(null, t.address, t.family);
  };
}

function once(t: Target, req: OutboundRequest, signal: AbortSignal): Promise<{ status: number; location?: string }> {
  const mod = t.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const r = mod.request(
      {
        protocol: t.url.protocol,
        hostname: t.hostname,
        port: t.port,
        path: `${t.url.pathname}${t.url.search}`,
        method: req.method,
        headers: { ...req.headers, host: t.url.host },
        auth: t.url.username
          ? `${decodeURIComponent(t.url.username)}:${decodeURIComponent(t.url.password)}`
          : undefined,
        lookup: pinnedLookup(t),
        // No pooled sockets: a reused connection would skip this hop's pinning.
        agent: false,
        signal,
      },
      (res) => {
        // Only the status matters; do not read (or wait for) a body an attacker controls.
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
        res.destroy();
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

export async function sendOutbound(
  url: string,
  req: OutboundRequest,
  deps: OutboundDeps = outboundDeps(),
): Promise<OutboundResponse> {
  const signal = AbortSignal.timeout(req.timeoutMs);
  let current = url;
  let cur = req;
  for (let hop = 0; ; hop++) {
    const target = await resolveTarget(current, deps);
    const res = await once(target, cur, signal);
    if (!REDIRECTS.has(res.status) || !res.location) return { status: res.status, url: current };
    if (hop >= MAX_REDIRECTS) throw new EddyError('bad_request', `more than ${MAX_REDIRECTS} redirects`);
    let next: URL;
    try {
      next = new URL(res.location, current);
    } catch {
      throw new EddyError('bad_request', 'redirect to an invalid URL');
    }
    current = next.href;
    // As browsers do: 307/308 repeat the request, the others become a GET without a body.
    if (res.status !== 307 && res.status !== 308) {
      const headers = { ...cur.headers };
      delete headers['content-type'];
      cur = { ...cur, method: 'GET', headers, body: undefined };
    }
  }
}
