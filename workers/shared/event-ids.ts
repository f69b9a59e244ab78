import type pg from 'pg';
import { NO_SITE } from '../consumer/dead-letters';
import { hooksFromEnv } from '../consumer/hooks';

/**
 * Inserts event ids this job has not applied yet and returns the records that are new. Everything a
 * job counts must come from the returned set: that is what makes re-sends and replays harmless.
 * `bookDuplicates`: the job that books the ingestion ledger counts what it dropped there, per site,
 * in the same transaction (a rolled-back batch or record books nothing).
 */
export async function claimEventIds<T extends { eventId: string; siteId?: string }>(tx: pg.PoolClient, job: string, records: T[], opts: { bookDuplicates?: boolean } = {}): Promise<T[]> {
  if (records.length === 0) return [];
  if (hooksFromEnv().variant === 'no-event-id-dedup') return records; // negative control only
  const r = await tx.query<{ event_id: string }>(
    `INSERT INTO event_ids (job, event_id) SELECT $1, id FROM unnest($2::uuid[]) AS id ON CONFLICT DO NOTHING RETURNING event_id`,
    [job, records.map((x) => x.eventId)],
  );
  const fresh = new Set(r.rows.map((x) => x.event_id));
  // A re-send can sit in the same batch as its original: only the first occurrence is new.
  const claimed = records.filter((x) => fresh.delete(x.eventId));
  if (opts.bookDuplicates && claimed.length < records.length) {
    const kept = new Set(claimed);
    const perSite = new Map<string, number>();
    for (const x of records) if (!kept.has(x)) perSite.set(x.siteId ?? NO_SITE, (perSite.get(x.siteId ?? NO_SITE) ?? 0) + 1);
    await tx.query(
      `INSERT INTO ingestion_ledger (site_id, minute, duplicates) SELECT u.site, date_trunc('minute', now()), u.n FROM unnest($1::uuid[], $2::int[]) AS u(site, n)
       ON CONFLICT (site_id, minute) DO UPDATE SET duplicates = ingestion_ledger.duplicates + EXCLUDED.duplicates`,
      [[...perSite.keys()], [...perSite.values()]],
    );
  }
  return claimed;
}
