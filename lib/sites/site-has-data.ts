import { pool } from '../db/client';

/** Whether any event of the site was ever counted (the snippet page's "already receiving"). */
export async function siteHasData(siteId: string): Promise<boolean> {
  const r = await pool().query(
    "SELECT 1 FROM rollups WHERE site_id = $1 AND dimension = '' AND granularity = 'day' AND (pageviews > 0 OR events > 0) LIMIT 1",
    [siteId],
  );
  return (r.rowCount ?? 0) > 0;
}
