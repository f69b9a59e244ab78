import type { Queryable } from '@/lib/db/client';

/** Whether any day row of the site's totals counts a pageview or an event. */
export async function hasCountedEvents(q: Queryable, siteId: string): Promise<boolean> {
  const r = await q.query(
    "SELECT 1 FROM rollups WHERE site_id = $1 AND dimension = '' AND granularity = 'day' AND (pageviews > 0 OR events > 0) LIMIT 1",
    [siteId],
  );
  return (r.rowCount ?? 0) > 0;
}
