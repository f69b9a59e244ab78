import { transaction, pool } from '../db/client';
import type { MemberSite } from '../auth/access';
import { EddyError } from '../errors';

// Deleting a site removes its data: the site row (content groups and share links cascade) and
// every table keyed by site id that has no foreign key (high-volume tables the workers write).
// The collect endpoint caches site keys for 30 s, so events already in flight may still be
// written for a few seconds; such rows belong to no site and are unreachable through the DAL.

const SITE_DATA_TABLES = ['rollups', 'sessions', 'peak_windows', 'minute_partials', 'late_events', 'ingestion_ledger', 'events'] as const;

export async function deleteSite(site: MemberSite, confirmation: string): Promise<{ deletedRows: number }> {
  if (confirmation.trim().toLowerCase() !== site.domain.toLowerCase()) {
    throw new EddyError('bad_request', 'confirm: type the site’s domain to delete it');
  }
  return transaction(pool(), async (c) => {
    let deletedRows = 0;
    await c.query('DELETE FROM sites WHERE id = $1', [site.id]);
    const present = await c.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1)`,
      [SITE_DATA_TABLES],
    );
    for (const t of SITE_DATA_TABLES) {
      if (!present.rows.some((r) => r.table_name === t)) continue;
      const r = await c.query(`DELETE FROM "${t}" WHERE site_id = $1`, [site.id]);
      deletedRows += r.rowCount ?? 0;
    }
    return { deletedRows };
  });
}
