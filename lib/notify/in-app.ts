import { z } from 'zod';
import type pg from 'pg';
import { topics, type Bus } from '../bus';

// In-app notifications: stored per user (the unread list), then announced on the `live` topic so
// every web process's relay can push them to that user's open sockets. Like the site notices,
// the push is only a hint: the list is read from PostgreSQL, so a lost push only delays it.

export const notifyMessageSchema = z.object({
  type: z.literal('notify'),
  notifications: z
    .array(
      z.object({
        id: z.string(),
        userId: z.string(),
        siteId: z.string().nullable(),
        title: z.string(),
        body: z.string(),
        link: z.string().nullable(),
        createdAt: z.number(),
      }),
    )
    .max(1000),
});
export type NotifyMessage = z.infer<typeof notifyMessageSchema>;
export type PushedNotification = NotifyMessage['notifications'][number];

/** Stores one notification for every member of the site's team and announces them. */
export async function notifyTeam(
  p: pg.Pool,
  b: Bus,
  n: { siteId: string; title: string; body: string; link: string | null },
): Promise<number> {
  const rows = await p.query<{ id: string; user_id: string; created_at: Date }>(
    `INSERT INTO notifications (user_id, site_id, title, body, link)
     SELECT m.user_id, s.id, $2, $3, $4 FROM sites s JOIN memberships m ON m.team_id = s.team_id WHERE s.id = $1
     RETURNING id::text, user_id, created_at`,
    [n.siteId, n.title, n.body, n.link],
  );
  if (rows.rows.length === 0) return 0;
  const msg: NotifyMessage = {
    type: 'notify',
    notifications: rows.rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      siteId: n.siteId,
      title: n.title,
      body: n.body,
      link: n.link,
      createdAt: r.created_at.getTime(),
    })),
  };
  await b.producer().send(topics.live, [{ key: n.siteId, value: JSON.stringify(msg) }]);
  return rows.rows.length;
}
