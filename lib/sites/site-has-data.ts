import { pool } from '../db/client';
import { hasCountedEvents } from '../rollups/site-has-data';

/** Whether any event of the site was ever counted (the snippet page's "already receiving"). */
export async function siteHasData(siteId: string): Promise<boolean> {
  return hasCountedEvents(pool(), siteId);
}
