import { db } from '../db/client';
import { EddyError } from '../errors';

// The data-access layer for tenant data: every lookup by id goes through a membership check,
// and "not yours" is indistinguishable from "does not exist" (404).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function siteForMember(userId: string, siteId: string) {
  if (!UUID.test(siteId)) throw new EddyError('not_found', 'Site not found');
  const site = await db().site.findFirst({ where: { id: siteId, team: { memberships: { some: { userId } } } } });
  if (!site) throw new EddyError('not_found', 'Site not found');
  return site;
}

export async function sitesForMember(userId: string) {
  return db().site.findMany({ where: { team: { memberships: { some: { userId } } } }, orderBy: { createdAt: 'asc' } });
}
