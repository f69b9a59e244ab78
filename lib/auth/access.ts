import { db } from '../db/client';
import { EddyError } from '../errors';
import { atLeast, type Role } from './roles';

// The data-access layer for tenant data. Every lookup by id goes through a membership check,
// and "not yours" is indistinguishable from "does not exist" (404). A member whose role is too
// weak for the action gets 403: they may know the object exists, just not change it.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(id: unknown): id is string {
  return typeof id === 'string' && UUID.test(id);
}

function requireRole(role: Role, min: Role, what: string): void {
  if (!atLeast(role, min)) throw new EddyError('forbidden', `Your role cannot ${what}`);
}

export async function siteForMember(userId: string, siteId: string, minRole: Role = 'viewer') {
  if (!isUuid(siteId)) throw new EddyError('not_found', 'Site not found');
  const site = await db().site.findFirst({
    where: { id: siteId, team: { memberships: { some: { userId } } } },
    include: { team: { select: { id: true, name: true, memberships: { where: { userId }, select: { role: true } } } } },
  });
  if (!site) throw new EddyError('not_found', 'Site not found');
  const role = site.team.memberships[0]!.role as Role;
  requireRole(role, minRole, 'change this site');
  const { team, ...rest } = site;
  return { ...rest, teamName: team.name, role };
}

export type MemberSite = Awaited<ReturnType<typeof siteForMember>>;

export async function sitesForMember(userId: string) {
  const sites = await db().site.findMany({
    where: { team: { memberships: { some: { userId } } } },
    orderBy: { createdAt: 'asc' },
    include: { team: { select: { name: true, memberships: { where: { userId }, select: { role: true } } } } },
  });
  return sites.map(({ team, ...s }) => ({ ...s, teamName: team.name, role: team.memberships[0]!.role as Role }));
}

export async function teamForMember(userId: string, teamId: string, minRole: Role = 'viewer') {
  if (!isUuid(teamId)) throw new EddyError('not_found', 'Team not found');
  const m = await db().membership.findUnique({ where: { teamId_userId: { teamId, userId } }, include: { team: true } });
  if (!m) throw new EddyError('not_found', 'Team not found');
  requireRole(m.role as Role, minRole, 'manage this team');
  return { ...m.team, role: m.role as Role };
}

export type MemberTeam = Awaited<ReturnType<typeof teamForMember>>;

export async function teamsForMember(userId: string) {
  const ms = await db().membership.findMany({
    where: { userId },
    include: { team: { include: { _count: { select: { memberships: true, sites: true } } } } },
    orderBy: { createdAt: 'asc' },
  });
  return ms.map((m) => ({
    id: m.team.id,
    name: m.team.name,
    role: m.role as Role,
    members: m.team._count.memberships,
    sites: m.team._count.sites,
  }));
}
