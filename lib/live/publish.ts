import { z } from 'zod';
import { topics, type Publisher } from '../bus';

// The `live` topic carries "site X changed" notices from the workers (after their transaction
// commits) to every web process, which then pushes a fresh LiveSnapshot to the site's room.
// Notices, not numbers: the snapshot is read from PostgreSQL, so a lost or repeated notice
// can only delay an update, never make it wrong.

export const siteChangedSchema = z.object({ type: z.literal('changed'), siteId: z.string(), at: z.number().int() });
export type SiteChanged = z.infer<typeof siteChangedSchema>;

export async function publishSiteChanges(b: Publisher, siteIds: Iterable<string>, now = Date.now()): Promise<void> {
  const unique = [...new Set(siteIds)];
  if (unique.length === 0) return;
  await b.producer().send(
    topics.live,
    unique.map((siteId) => ({
      key: siteId,
      value: JSON.stringify({ type: 'changed', siteId, at: now } satisfies SiteChanged),
    })),
  );
}

export function liveRoom(siteId: string): string {
  return `site:${siteId}`;
}
