import type pg from 'pg';
import type { BusMessage } from '@/lib/bus';
import { storableText } from '@/lib/events/storable';
import type { Dropped } from './outcome';

// The dead-letter and drop outcomes (outcome.ts), booked. A dead letter — a record that cannot be
// read, or that fails to apply on its own data — is stored with its bytes, the reason and (when it
// decoded) its site, in the batch's transaction, so it is booked exactly once with the offsets
// that skip it.

export interface DeadRecord {
  message: BusMessage;
  reason: string;
  /** Known when the record decoded (it failed to apply); unknown for a record that cannot be read. */
  siteId?: string;
}

/** The ledger's site for what names no site we can trust. */
export const NO_SITE = '00000000-0000-0000-0000-000000000000';

export async function deadLetter(
  tx: pg.PoolClient,
  job: string,
  dead: DeadRecord[],
  booksLedger: boolean,
): Promise<void> {
  await tx.query(
    `INSERT INTO dead_letters (job, topic, partition, "offset", key, value, reason, site_id)
     SELECT $1, u.topic, u.partition, u.off, u.key, u.value, u.reason, u.site
     FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bytea[], $6::bytea[], $7::text[], $8::uuid[]) AS u(topic, partition, off, key, value, reason, site)
     ON CONFLICT DO NOTHING`,
    [
      job,
      dead.map((d) => d.message.topic),
      dead.map((d) => d.message.partition),
      dead.map((d) => d.message.offset),
      dead.map((d) => d.message.key),
      dead.map((d) => d.message.value),
      // The reason can quote the record (a property key in a validation path): keep it storable.
      dead.map((d) => storableText(d.reason).slice(0, 500)),
      dead.map((d) => d.siteId ?? null),
    ],
  );
  if (!booksLedger) return;
  // A record we cannot read names no site we can trust: booked against no site. One that decoded
  // but failed to apply is booked against its own site, so its owner sees it in the ledger.
  await bookPerSite(tx, 'dead_lettered', dead);
}

/**
 * The drop outcome: nothing is stored for a dropped record, but the job that books the ledger
 * counts its duplicates there, per site, in the batch's transaction (a rolled-back batch or record
 * books nothing). A deleted site's records are not booked: the site and its ledger are gone.
 */
export async function bookDrops(tx: pg.PoolClient, dropped: Dropped[], booksLedger: boolean): Promise<void> {
  const duplicates = dropped.filter((d) => d.reason === 'duplicate');
  if (booksLedger && duplicates.length) await bookPerSite(tx, 'duplicates', duplicates);
}

async function bookPerSite(
  tx: pg.PoolClient,
  column: 'dead_lettered' | 'duplicates',
  records: { siteId?: string }[],
): Promise<void> {
  const counted = new Map<string, number>();
  for (const d of records) counted.set(d.siteId ?? NO_SITE, (counted.get(d.siteId ?? NO_SITE) ?? 0) + 1);
  // In site order: partitions applied at once share these rows, and unsorted upserts of two sites
  // by two transactions would deadlock (retried, but for nothing).
  const perSite = new Map([...counted].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  await tx.query(
    `INSERT INTO ingestion_ledger (site_id, minute, ${column}) SELECT u.site, date_trunc('minute', now()), u.n FROM unnest($1::uuid[], $2::int[]) AS u(site, n)
     ON CONFLICT (site_id, minute) DO UPDATE SET ${column} = ingestion_ledger.${column} + EXCLUDED.${column}`,
    [[...perSite.keys()], [...perSite.values()]],
  );
}
