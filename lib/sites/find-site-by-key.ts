import { db } from '../db/client';

// The collect endpoint looks a site up on every request; a short cache keeps that off the
// database. 30 s bounds how long a deleted site or changed hostname list lingers.

export interface SiteForIngest {
  id: string;
  allowedHostnames: string[];
}

const TTL_MS = 30_000;
const cache = new Map<string, { site: SiteForIngest | null; at: number }>();

export async function findSiteByKey(publicKey: string, now = Date.now()): Promise<SiteForIngest | null> {
  const hit = cache.get(publicKey);
  if (hit && now - hit.at < TTL_MS) return hit.site;
  const row = await db().site.findUnique({ where: { publicKey }, select: { id: true, allowedHostnames: true } });
  if (cache.size > 10_000) cache.clear();
  cache.set(publicKey, { site: row, at: now });
  return row;
}
