import { pool } from '../db/client';
import type { MemberSite } from '../auth/access';
import { EddyError } from '../errors';
import { eraseSite, type ErasureReport } from './site-data';

// Deleting a site removes every row of its data in every table (lib/sites/site-data.ts says how,
// and in what order so the pipeline keeps running for every other site).

export async function deleteSite(
  site: MemberSite,
  confirmation: string,
): Promise<{ deletedRows: number } & ErasureReport> {
  if (confirmation.trim().toLowerCase() !== site.domain.toLowerCase()) {
    throw new EddyError('bad_request', 'confirm: type the site’s domain to delete it');
  }
  const report = await eraseSite(pool(), site.id);
  return { deletedRows: Object.values(report.deleted).reduce((a, b) => a + b, 0), ...report };
}
