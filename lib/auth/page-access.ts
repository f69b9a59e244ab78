import { notFound, redirect } from 'next/navigation';
import { isEddyError } from '../errors';
import { siteForMember, teamForMember } from './access';
import { currentUser, type CurrentUser } from './current-user';
import type { Role } from './roles';

// The same checks for server-rendered pages: signed out → /login, not yours → 404. Every page
// calls these itself (a layout's check does not protect its pages' data).

export async function pageUser(next?: string): Promise<CurrentUser> {
  const user = await currentUser();
  if (!user) redirect(next ? `/login?callbackUrl=${encodeURIComponent(next)}` : '/login');
  return user;
}

function notFoundOr(e: unknown): never {
  if (isEddyError(e) && (e.code === 'not_found' || e.code === 'forbidden')) notFound();
  throw e;
}

export async function pageSite(siteId: string, minRole: Role = 'viewer') {
  const user = await pageUser(`/sites/${encodeURIComponent(siteId)}`);
  const site = await siteForMember(user.id, siteId, minRole).catch(notFoundOr);
  return { user, site };
}

export async function pageTeam(teamId: string, minRole: Role = 'viewer') {
  const user = await pageUser(`/teams/${encodeURIComponent(teamId)}`);
  const team = await teamForMember(user.id, teamId, minRole).catch(notFoundOr);
  return { user, team };
}
