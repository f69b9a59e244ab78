import { z } from 'zod';
import { pool } from '../db/client';
import { isIsoDate, localDate } from './time-zone';

// The day's busiest windows (kept by the peaks job) for the whole site ('' group) and each
// content group, in the site's time zone.

export interface PeakWindow {
  contentGroup: string;
  windowMinutes: number;
  start: number;
  end: number;
  pageviews: number;
  visitors: number;
}

export async function dayPeaks(siteId: string, day: string): Promise<PeakWindow[]> {
  const { rows } = await pool().query<{
    content_group: string;
    window_size_minutes: number;
    window_start: Date;
    window_end: Date;
    pageviews: number;
    visitors: number;
  }>(
    `SELECT content_group, window_size_minutes, window_start, window_end, pageviews, visitors
       FROM peak_windows WHERE site_id = $1 AND day = $2::date
      ORDER BY content_group = '' DESC, pageviews DESC, content_group, window_size_minutes`,
    [siteId, day],
  );
  return rows.map((r) => ({
    contentGroup: r.content_group,
    windowMinutes: r.window_size_minutes,
    start: r.window_start.getTime(),
    end: r.window_end.getTime(),
    pageviews: r.pageviews,
    visitors: r.visitors,
  }));
}

export function todayIn(timezone: string, now = Date.now()): string {
  return localDate(now, timezone);
}

export const dayPeaksQuerySchema = z.object({
  day: z.string().refine(isIsoDate, 'must be a date YYYY-MM-DD').optional(),
});

/** The peaks of `day` (default: today in the site's time zone), with the site's content group names in order. */
export async function sitePeaks(
  site: { id: string; timezone: string },
  q: z.infer<typeof dayPeaksQuerySchema>,
  now = Date.now(),
) {
  const day = q.day ?? todayIn(site.timezone, now);
  const groups = await pool().query<{ name: string }>(
    'SELECT name FROM content_groups WHERE site_id = $1 ORDER BY position',
    [site.id],
  );
  return {
    day,
    timezone: site.timezone,
    contentGroups: groups.rows.map((g) => g.name),
    windows: await dayPeaks(site.id, day),
  };
}
