import { z } from 'zod';
import { pool } from '../db/client';

// A user's in-app notifications: their own rows only (every query is by user id).

export interface NotificationView {
  id: string;
  siteId: string | null;
  title: string;
  body: string;
  link: string | null;
  createdAt: number;
  read: boolean;
}

export const markReadSchema = z.object({
  ids: z
    .array(z.string().regex(/^\d{1,18}$/))
    .max(500)
    .optional(),
  all: z.boolean().optional(),
});

export async function listNotifications(
  userId: string,
  limit = 50,
): Promise<{ unread: number; items: NotificationView[] }> {
  const [items, unread] = await Promise.all([
    pool().query<{
      id: string;
      site_id: string | null;
      title: string;
      body: string;
      link: string | null;
      created_at: Date;
      read_at: Date | null;
    }>(
      'SELECT id::text, site_id, title, body, link, created_at, read_at FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2',
      [userId, limit],
    ),
    pool().query<{ n: string }>(
      'SELECT count(*)::text AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL',
      [userId],
    ),
  ]);
  return {
    unread: Number(unread.rows[0]!.n),
    items: items.rows.map((r) => ({
      id: r.id,
      siteId: r.site_id,
      title: r.title,
      body: r.body,
      link: r.link,
      createdAt: r.created_at.getTime(),
      read: r.read_at !== null,
    })),
  };
}

export async function markRead(userId: string, m: z.infer<typeof markReadSchema>): Promise<void> {
  if (m.all)
    await pool().query('UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL', [userId]);
  else if (m.ids?.length)
    await pool().query(
      'UPDATE notifications SET read_at = now() WHERE user_id = $1 AND id = ANY($2::bigint[]) AND read_at IS NULL',
      [userId, m.ids],
    );
}
