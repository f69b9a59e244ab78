import { db } from '../db/client';

export const LIVE_WINDOW_MINUTES = 30;

/** Per-minute counts of the last 30 minutes: the live view's starting point before pushes arrive. */
export async function recentMinuteCounts(siteId: string, now: number): Promise<{ minute: number; pageviews: number }[]> {
  const since = new Date(Math.floor(now / 60_000) * 60_000 - (LIVE_WINDOW_MINUTES - 1) * 60_000);
  const rows = await db().minuteRollup.findMany({ where: { siteId, minute: { gte: since } }, select: { minute: true, pageviews: true }, orderBy: { minute: 'asc' } });
  return rows.map((r) => ({ minute: r.minute.getTime(), pageviews: r.pageviews }));
}
