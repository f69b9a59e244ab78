import { db } from '../db/client';
import type { MemberSite } from '../auth/access';
import type { UpdateSiteInput } from './settings';

/**
 * Applies a settings change. `updated_at` moves on every change: the workers' dimension table
 * reloads a site when it does. Content groups, when given, replace the list (order = priority).
 */
export async function updateSite(site: MemberSite, input: UpdateSiteInput) {
  const { contentGroups, ...fields } = input;
  const data = {
    ...fields,
    ...(fields.allowedHostnames ? { allowedHostnames: [...new Set(fields.allowedHostnames)] } : {}),
    updatedAt: new Date(),
  };
  return db().$transaction(async (tx) => {
    if (contentGroups) {
      await tx.contentGroup.deleteMany({ where: { siteId: site.id } });
      if (contentGroups.length)
        await tx.contentGroup.createMany({
          data: contentGroups.map((g, position) => ({ ...g, siteId: site.id, position })),
        });
    }
    return tx.site.update({ where: { id: site.id }, data });
  });
}

export async function contentGroupsOf(siteId: string) {
  return db().contentGroup.findMany({
    where: { siteId },
    orderBy: { position: 'asc' },
    select: { id: true, name: true, pattern: true },
  });
}
