import { createHash } from 'node:crypto';
import type pg from 'pg';
import { forgetKeysDeep, type Json } from '../stream';
import { eraseSiteFromLog } from '../bus/embedded';
import { transaction } from '../db/transaction';

// Everything Eddy keeps about a site, and how it is erased. Owner of `deleted_sites`.
//
// The rule is read from the schema, not from a list: every table with a `site_id` column is
// erased by that column, so a table added later is covered without touching this file. Tables
// that hold a site's data *without* such a column are named in INDIRECT with how they are
// erased; tables that never hold site data are named in NO_SITE_DATA with the reason. The
// deletion test (tests/integration/site-deletion.test.ts) reads every table of the migrated
// schema and fails on one that is in none of the three, and then searches every row of every
// table for the deleted site's id.
//
// Order, so that the pipeline keeps running for every other site and nothing is written back:
//   1. one short transaction: the site row goes (foreign keys cascade to content groups, share
//      links, alert rules and their history, SLA settings, visitor-id handovers) and its hash goes into deleted_sites —
//      from then on the stream jobs drop the site's records still in the bus (collect stops
//      producing them within its 30 s site-key cache);
//   2. each job checkpoint (consumer_progress) in its own short transaction under the row lock
//      the job's batch holds: the site's windows are forgotten and the version bumped, so a
//      worker that has them in memory restores before its next write (the runtime's fencing);
//      in-flight batches finish first, as the lock waits for them;
//   3. the data tables, one statement each, then once more for rows a pass that was in flight
//      during 1–2 (alerts, day cache) may have written. Only the site's rows are locked. Then
//      the site's records in the embedded log, consumed or not (the jobs would drop them anyway);
//      records that still arrive (collect's site-key cache, sends in flight) are erased by the
//      retention job's sweep (eraseDeletedSitesFromLog).

/** Tables that hold site data without a `site_id` column, and how erasure reaches them. */
export const INDIRECT: Record<string, string> = {
  sites: 'the site row itself (step 1); cascades to its foreign-keyed tables',
  event_ids: "the jobs' dedup keys of the site's events, found through the events archive before it is erased",
  alert_deliveries: 'cascade from alert_events (cascade from alert_rules)',
  consumer_progress: "the jobs' checkpoints: the site's window state is forgotten (lib/stream/forget-keys.ts)",
  dead_letters: 'by site_id, and unreadable records whose key starts with the site id',
  auth_attempts: "share-password attempts against the site's share links (subject = link id)",
  export_chunks: 'cascade from exports (site_id)',
  bus_messages:
    "the embedded log's records, keyed by site id (lib/bus/embedded.ts): erased by key at step 3; records still arriving afterwards by the retention job's sweep (eraseDeletedSitesFromLog). With Kafka, the topic's retention removes them",
};

/** Tables that never hold a site's data. */
export const NO_SITE_DATA: Record<string, string> = {
  _prisma_migrations: 'migration bookkeeping',
  users: 'accounts (deleted by account deletion)',
  teams: 'teams (deleted by team deletion, which deletes their sites first)',
  memberships: 'team membership',
  oauth_accounts: 'sign-in identities',
  invites: 'team invitations',
  salts: 'visitor-id salts, shared by all sites',
  deleted_sites: 'SHA-256 of deleted site ids only (step 1)',
  partition_owners: 'which worker owns which partition',
  worker_heartbeats: 'worker processes',
  bus_topics: 'embedded log metadata',
  bus_partitions: 'embedded log metadata',
  bus_group_offsets: 'embedded log metadata',
  bus_group_members: 'embedded log metadata',
};

export function siteHash(siteId: string): Buffer {
  return createHash('sha256').update(siteId.toLowerCase()).digest();
}

/** Tables of the current schema (partitions excluded: erasing the parent erases them) with a site_id column. */
export async function siteIdTables(c: pg.PoolClient | pg.Pool): Promise<string[]> {
  const r = await c.query<{ table_name: string }>(
    `SELECT c.table_name FROM information_schema.columns c
       JOIN pg_class k ON k.relname = c.table_name AND k.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
      WHERE c.table_schema = current_schema() AND c.column_name = 'site_id' AND NOT k.relispartition AND k.relkind IN ('r', 'p')
      ORDER BY c.table_name`,
  );
  return r.rows.map((x) => x.table_name);
}

export interface ErasureReport {
  /** Rows deleted per table (checkpoint entries for consumer_progress). */
  deleted: Record<string, number>;
}

/**
 * Erases a site and every row of its data (see the order above). The caller has checked the
 * right to do so. Safe to run again (e.g. after a crash half-way): every step is idempotent.
 */
export async function eraseSite(p: pg.Pool, siteId: string): Promise<ErasureReport> {
  const deleted: Record<string, number> = {};
  const add = (t: string, n: number | null) => {
    if (n) deleted[t] = (deleted[t] ?? 0) + n;
  };
  // Funnel attempts in the funnels job's checkpoint are keyed by funnel, not site: the site's
  // funnel ids are read before the site row (and with it its funnels) goes.
  const funnelKeys = (await p.query<{ id: string }>('SELECT id FROM funnels WHERE site_id = $1', [siteId])).rows.map(
    (r) => `${r.id}\u001f`,
  );
  // 1. The site row and the tombstone.
  await transaction(p, async (c) => {
    await c.query('INSERT INTO deleted_sites (site_hash) VALUES ($1) ON CONFLICT DO NOTHING', [siteHash(siteId)]);
    const links = await c.query<{ id: string }>('SELECT id FROM share_links WHERE site_id = $1', [siteId]);
    if (links.rows.length) {
      add(
        'auth_attempts',
        (
          await c.query("DELETE FROM auth_attempts WHERE kind = 'share' AND subject = ANY($1)", [
            links.rows.map((l) => l.id),
          ])
        ).rowCount,
      );
    }
    add('sites', (await c.query('DELETE FROM sites WHERE id = $1', [siteId])).rowCount);
  });
  // 2. Checkpoints: the peaks job's last, after the jobs that write its input.
  const forget = (key: string | number) =>
    typeof key === 'string' &&
    (key === siteId || key.startsWith(`${siteId}|`) || funnelKeys.some((f) => key.startsWith(f)));
  const rows = await p.query<{ job: string; topic: string; partition: number }>(
    "SELECT job, topic, partition FROM consumer_progress WHERE state IS NOT NULL ORDER BY (topic = 'minute_partials'), job, topic, partition",
  );
  for (const row of rows.rows) {
    await transaction(p, async (c) => {
      const cur = await c.query<{ state: Json | null }>(
        'SELECT state FROM consumer_progress WHERE job = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
        [row.job, row.topic, row.partition],
      );
      const state = cur.rows[0]?.state;
      // The peaks job reads minute_partials under this same lock: erase its input with its state.
      if (row.topic === 'minute_partials')
        add('minute_partials', (await c.query('DELETE FROM minute_partials WHERE site_id = $1', [siteId])).rowCount);
      if (!state) return;
      const { checkpoint, removed } = forgetKeysDeep(state, forget);
      if (removed === 0) return;
      await c.query(
        'UPDATE consumer_progress SET state = $4, version = version + 1, updated_at = now() WHERE job = $1 AND topic = $2 AND partition = $3',
        [row.job, row.topic, row.partition, JSON.stringify(checkpoint)],
      );
      add('consumer_progress', removed);
    });
  }
  // 3. Data. Dedup keys first: they are found through the archive.
  add(
    'event_ids',
    (
      await p.query(
        `DELETE FROM event_ids i USING (SELECT event_id FROM events WHERE site_id = $1 UNION SELECT event_id FROM late_events WHERE site_id = $1) e WHERE i.event_id = e.event_id`,
        [siteId],
      )
    ).rowCount,
  );
  add(
    'dead_letters',
    (
      await p.query(
        "DELETE FROM dead_letters WHERE site_id IS NULL AND position(convert_to($1 || ':', 'UTF8') IN key) = 1",
        [siteId],
      )
    ).rowCount,
  );
  const tables = await siteIdTables(p);
  for (let sweep = 0; sweep < 2; sweep++) {
    for (const t of tables) add(t, (await p.query(`DELETE FROM "${t}" WHERE site_id = $1`, [siteId])).rowCount);
  }
  // Last, so that it also takes what collect accepted meanwhile; later arrivals go in the retention job's sweep.
  add('bus_messages', await eraseSiteFromLog(p, siteId));
  return { deleted };
}

/** The records of sites that still exist: records of deleted sites still in the bus are dropped. */
export async function withoutDeletedSites<T extends { record: { siteId: string } }>(
  c: pg.PoolClient,
  records: T[],
): Promise<T[]> {
  if (records.length === 0) return records;
  const ids = [...new Set(records.map((r) => r.record.siteId))];
  const r = await c.query<{ site_hash: Buffer }>('SELECT site_hash FROM deleted_sites WHERE site_hash = ANY($1)', [
    ids.map(siteHash),
  ]);
  if (r.rows.length === 0) return records;
  const gone = new Set(r.rows.map((x) => x.site_hash.toString('hex')));
  const goneIds = new Set(ids.filter((id) => gone.has(siteHash(id).toString('hex'))));
  return records.filter((x) => !goneIds.has(x.record.siteId));
}

/**
 * Tables of the current schema that this file does not account for: neither a site_id column
 * nor named in INDIRECT or NO_SITE_DATA. Must be empty (the deletion test checks it), so a table
 * that holds site data some other way cannot be added without saying how it is erased.
 */
export async function unclassifiedTables(c: pg.Pool): Promise<string[]> {
  const all = await c.query<{ relname: string }>(
    `SELECT relname FROM pg_class WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY relname`,
  );
  const bySiteId = new Set(await siteIdTables(c));
  return all.rows.map((r) => r.relname).filter((t) => !bySiteId.has(t) && !(t in INDIRECT) && !(t in NO_SITE_DATA));
}
