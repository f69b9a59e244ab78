import { db } from '../db/client';
import type { SaltRotation } from '../collect/identity/periods';

// The collect endpoint looks a site up on every request; a short cache keeps that off the
// database. 30 s bounds how long a deleted site or a changed setting lingers.

export interface SiteForIngest {
  id: string;
  allowedHostnames: string[];
  saltRotation: SaltRotation;
  rateLimitPerMinute: number;
}

const TTL_MS = 30_000;
const cache = new Map<string, { site: SiteForIngest | null; at: number }>();

export async function findSiteByKey(publicKey: string, now = Date.now()): Promise<SiteForIngest | null> {
  const hit = cache.get(publicKey);
  if (hit && now - hit.at < TTL_MS) return hit.site;
  const row = await db().site.findUnique({
    where: { publicKey },
    select: { id: true, allowedHostnames: true, saltRotation: true, rateLimitPerMinute: true },
  });
  if (cache.size > 10_000) cache.clear();
  cache.set(publicKey, { site: row, at: now });
  return row;
}

/** A site accepts events from its listed hostnames; "*.example.com" also admits subdomains. An empty list admits any. */
export function hostnameAllowed(allowed: string[], hostname: string): boolean {
  if (allowed.length === 0) return true;
  const h = hostname.toLowerCase();
  return allowed.some((a) => {
    const entry = a.toLowerCase();
    return entry.startsWith('*.') ? h === entry.slice(2) || h.endsWith(entry.slice(1)) : h === entry;
  });
}
