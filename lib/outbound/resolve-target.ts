import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { env } from '../env';
import { EddyError } from '../errors';
import { outboundPolicy, type AddressPolicy } from './address-policy';

// A user-supplied URL → the one address a request to it will connect to, after every check:
// http(s) only, and every address the host resolves to allowed by the policy (one bad address
// refuses the host, so round-robin DNS cannot sneak a private one in). The sender then connects
// to exactly this address, so DNS cannot change its answer between the check and the connect.

export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface OutboundDeps {
  resolve: Resolver;
  policy: AddressPolicy;
}

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** The resolver and the policy from the settings (OUTBOUND_ALLOW_PRIVATE); tests inject their own. */
export function outboundDeps(): OutboundDeps {
  return { resolve: systemResolver, policy: outboundPolicy({ allowPrivate: env().OUTBOUND_ALLOW_PRIVATE }) };
}

export interface Target {
  url: URL;
  /** Hostname without IPv6 brackets, as TLS and the Host header want it. */
  hostname: string;
  port: number;
  address: string;
  family: 4 | 6;
}

type Checked = { ok: true; target: Target } | { ok: false; reason: string; unresolved?: boolean };

export async function checkTarget(raw: string | URL, deps: OutboundDeps): Promise<Checked> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, reason: `${url.protocol} URLs are not allowed (http and https only)` };
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (!hostname) return { ok: false, reason: 'the URL has no host' };
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  let addresses: { address: string; family: number }[];
  if (isIP(hostname)) addresses = [{ address: hostname, family: isIP(hostname) }];
  else {
    try {
      addresses = await deps.resolve(hostname);
    } catch {
      return { ok: false, reason: `host ${hostname} could not be resolved`, unresolved: true };
    }
    if (addresses.length === 0)
      return { ok: false, reason: `host ${hostname} could not be resolved`, unresolved: true };
  }
  for (const a of addresses) {
    const refused = deps.policy(a.address, port);
    if (refused)
      return {
        ok: false,
        reason: isIP(hostname) ? `${refused} refused` : `host ${hostname} resolves to a ${refused}; refused`,
      };
  }
  const first = addresses[0]!;
  return { ok: true, target: { url, hostname, port, address: first.address, family: first.family === 6 ? 6 : 4 } };
}

/** The checked target of one request (send time); an EddyError (bad_request) says why it is refused. */
export async function resolveTarget(raw: string | URL, deps: OutboundDeps): Promise<Target> {
  const r = await checkTarget(raw, deps);
  if (r.ok) return r.target;
  // DNS failing may be passing; a refused target is not.
  if (r.unresolved) throw new Error(r.reason);
  throw new EddyError('bad_request', r.reason);
}

/**
 * Save-time check of a URL a user configures, so a refused target is a 400 naming the field
 * instead of a failed delivery later. A host that does not resolve right now is accepted: DNS
 * changes, and the send-time check (on every request and hop) is the one that protects.
 */
export async function validateOutboundUrl(
  raw: string,
  field: string,
  deps: OutboundDeps = outboundDeps(),
): Promise<void> {
  const r = await checkTarget(raw, deps);
  if (!r.ok && !r.unresolved) throw new EddyError('bad_request', `${field}: ${r.reason}`);
}
