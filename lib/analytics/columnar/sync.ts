import type pg from 'pg';
import type { DuckDBConnection } from '@duckdb/node-api';
import { HOUR, DAY } from '@/lib/time';
import { EVENT_SPECS, VISIT_SPECS } from '../dimension-registry';
import { EddyError } from '@/lib/errors';

// Following PostgreSQL's filter facts into the columnar copy (issue 17), by transaction id.
//
// Every fact row carries the id of the top-level transaction that last wrote it (`xid`, set by
// default on insert and by the sessions job's upsert on update), and every delete leaves a
// tombstone with the deleting transaction's id (prisma/migrations/20261209000000_fact_sync). A
// sync takes a REPEATABLE READ snapshot (xmax and the list of transactions in progress, `xip`):
// every xid below xmax that is not in xip has ended, so its rows are exactly what the snapshot
// sees. It applies, tombstones first, then rows (visits replace the copy's row with their key):
//   - the new window: lo <= xid < xmax, except the xids in progress;
//   - the pending ones that have ended since: xids that were in progress at an earlier sync;
// and keeps lo = xmax and the xids still in progress as pending. So each transaction's writes are
// applied once, after it committed, whatever the order in which transactions commit, and a
// transaction left open (here or in another database of the cluster: xids are cluster-wide) holds
// back nothing but its own rows. Deletes before upserts within a sync is right because a row
// written after its tombstone was written by a transaction that saw the delete, read in this sync's
// upserts or a later one.
//
// A copy that did not sync for RELOAD_AFTER_MS may have missed pruned tombstones and reloads.

/** Tombstones are pruned after this (the retention job); a copy further behind reloads. */
export const TOMBSTONE_KEEP_MS = 2 * DAY;
/** A copy that could not sync for this long reloads (well within TOMBSTONE_KEEP_MS). */
export const RELOAD_AFTER_MS = 12 * HOUR;
const CHUNK = 20_000;

/** Site ids as small integers inside the copy: 4 bytes a row instead of a 36-character string. */
export class SiteCodes {
  private readonly codes = new Map<string, number>();
  code(siteId: string): number {
    const id = siteId.toLowerCase();
    let c = this.codes.get(id);
    if (c === undefined) this.codes.set(id, (c = this.codes.size + 1));
    return c;
  }
  known(siteId: string): number | undefined {
    return this.codes.get(siteId.toLowerCase());
  }
  entries(): [string, number][] {
    return [...this.codes];
  }
}

/** The facts' dimension columns, in the fact tables' order (the registry's). */
export const EVENT_COLUMNS = EVENT_SPECS.map((d) => d.name);
export const VISIT_COLUMNS = VISIT_SPECS.map((d) => d.name);

/** The copy's schema: times as epoch milliseconds, sites as codes, dimensions as dictionary ids. */
export const COPY_SCHEMA = [
  `CREATE TABLE event_facts (site INTEGER NOT NULL, ts BIGINT NOT NULL, visitor BIGINT NOT NULL, kind TINYINT NOT NULL,
     ${EVENT_COLUMNS.map((c) => `${c} INTEGER`).join(', ')})`,
  `CREATE TABLE visit_facts (site INTEGER NOT NULL, started_at BIGINT NOT NULL, visitor BIGINT NOT NULL, ended_at BIGINT NOT NULL,
     pageviews INTEGER NOT NULL, duration_ms INTEGER NOT NULL, bounce BOOLEAN NOT NULL, ${VISIT_COLUMNS.map((c) => `${c} INTEGER`).join(', ')})`,
  `CREATE TABLE visit_stage AS SELECT * FROM visit_facts LIMIT 0`,
  // Custom events' names and properties, which the facts do not hold: a row per event (no key)
  // and a row per property (its key and its value as text, as `record->'props'->>key` reads it),
  // so an event filter on a custom event is answered here instead of from the archive's records.
  `CREATE TABLE custom_events (site INTEGER NOT NULL, ts BIGINT NOT NULL, visitor BIGINT NOT NULL, name VARCHAR NOT NULL,
     pkey VARCHAR, pval VARCHAR)`,
];

/** Where a copy stands: everything below `lo` is applied but the `pending` xids (in progress when last seen). */
export interface SyncCursor {
  lo: bigint;
  pending: bigint[];
}

export interface SyncResult {
  cursor: SyncCursor;
  /** Transactions that were in progress at this sync's snapshot. */
  inProgress: number;
  events: number;
  /** Rows of custom_events: one per custom event and one per property. */
  customEvents: number;
  visits: number;
  tombstones: number;
}

const ms = (col: string) => `(extract(epoch FROM ${col}) * 1000)::int8`;

async function* chunks(c: pg.PoolClient, name: string, sql: string): AsyncGenerator<unknown[][]> {
  await c.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`);
  try {
    for (;;) {
      const r = await c.query<unknown[]>({ text: `FETCH ${CHUNK} FROM ${name}`, rowMode: 'array' });
      if (r.rows.length === 0) return;
      yield r.rows;
      if (r.rows.length < CHUNK) return;
    }
  } finally {
    // After an error the transaction is aborted and CLOSE fails too: keep the first error.
    await c.query(`CLOSE ${name}`).catch(() => undefined);
  }
}

type ColumnKind = 'site' | 'bigint' | 'int' | 'tinyint' | 'bool' | 'text';

/** Rows of a PostgreSQL query into a copy table through DuckDB's appender, a chunk at a time. */
async function copyRows(
  c: pg.PoolClient,
  duck: DuckDBConnection,
  table: string,
  sql: string,
  kinds: ColumnKind[],
  sites: SiteCodes,
): Promise<number> {
  const app = await duck.createAppender(table);
  let n = 0;
  try {
    for await (const rows of chunks(c, `eddy_${table}`, sql)) {
      for (const r of rows) {
        kinds.forEach((k, i) => {
          const v = r[i];
          if (v === null) app.appendNull();
          else if (k === 'site') app.appendInteger(sites.code(v as string));
          else if (k === 'bigint') app.appendBigInt(BigInt(v as string));
          else if (k === 'int') app.appendInteger(Number(v));
          else if (k === 'tinyint') app.appendTinyInt(Number(v));
          else if (k === 'text') app.appendVarchar(v as string);
          else app.appendBoolean(v as boolean);
        });
        app.endRow();
      }
      n += rows.length;
      app.flushSync();
    }
  } finally {
    try {
      app.closeSync();
    } catch {
      // the append's own error, if any, is the one to report
    }
  }
  return n;
}

/**
 * One sync step from `cursor` (lo 0: everything), on `c` in a REPEATABLE READ READ ONLY
 * transaction the caller opened, into the copy on `duck`.
 */
export async function syncStep(
  c: pg.PoolClient,
  duck: DuckDBConnection,
  sites: SiteCodes,
  cursor: SyncCursor,
): Promise<SyncResult> {
  const snap = await c.query<{ xmax: string; xip: string[] }>(
    `SELECT pg_snapshot_xmax(s)::text AS xmax, array(SELECT x::text FROM pg_snapshot_xip(s) AS x) AS xip FROM pg_current_snapshot() AS s`,
  );
  const xmax = BigInt(snap.rows[0]!.xmax);
  const xip = snap.rows[0]!.xip.map((x) => BigInt(x));
  const running = new Set(xip);
  const { lo } = cursor;
  const ended = cursor.pending.filter((x) => !running.has(x));
  const pending = [...cursor.pending.filter((x) => running.has(x)), ...xip.filter((x) => x >= lo && x < xmax)];
  const out: SyncResult = {
    cursor: { lo: xmax, pending },
    inProgress: xip.length,
    events: 0,
    customEvents: 0,
    visits: 0,
    tombstones: 0,
  };
  // Every value here is a bigint PostgreSQL gave: safe to write into the statement.
  const skip = xip.filter((x) => x >= lo && x < xmax);
  const window = `(xid >= ${lo} AND xid < ${xmax}${skip.length ? ` AND xid NOT IN (${skip.join(', ')})` : ''})`;
  const where = `WHERE ${window}${ended.length ? ` OR xid IN (${ended.join(', ')})` : ''}`;
  if (xmax <= lo && ended.length === 0) return out;
  if (lo === 0n) {
    // Rows whose xid is not below this cluster's xmax were written elsewhere (a restore or a
    // logical copy keeps the old cluster's ids): the protocol would never read them.
    const foreign = await c.query(
      `SELECT 1 FROM event_facts WHERE xid >= ${xmax} UNION ALL SELECT 1 FROM visit_facts WHERE xid >= ${xmax} LIMIT 1`,
    );
    if (foreign.rows.length)
      throw new EddyError(
        'config',
        'The fact tables carry transaction ids from another PostgreSQL cluster (restored or copied?): run UPDATE event_facts SET xid = DEFAULT; UPDATE visit_facts SET xid = DEFAULT; (the web process tries again within minutes)',
      );
  }

  // 1. Deletes. A full load (lo = 0) starts from an empty copy: nothing to delete.
  if (lo > 0n) {
    const t = await c.query<{
      site_id: string;
      visitor: string | null;
      started_at: string | null;
      before: string | null;
    }>(
      `SELECT site_id, visitor::text, ${ms('started_at')}::text AS started_at, ${ms('before')}::text AS before
         FROM fact_tombstones ${where} ORDER BY xid, id`,
    );
    for (const r of t.rows) {
      const site = sites.known(r.site_id);
      if (site === undefined) continue; // never copied
      if (r.before !== null) {
        await duck.run(`DELETE FROM event_facts WHERE site = ${site} AND ts < ${Number(r.before)}`);
        await duck.run(`DELETE FROM visit_facts WHERE site = ${site} AND started_at < ${Number(r.before)}`);
        await duck.run(`DELETE FROM custom_events WHERE site = ${site} AND ts < ${Number(r.before)}`);
      } else if (r.visitor !== null && r.started_at !== null) {
        await duck.run(
          `DELETE FROM visit_facts WHERE site = ${site} AND started_at = ${Number(r.started_at)} AND visitor = ${BigInt(r.visitor)}`,
        );
      }
    }
    out.tombstones = t.rows.length;
  }

  // 2. Events: only ever inserted (ON CONFLICT DO NOTHING never rewrites one), so appended.
  const evCols = `site_id::text, ${ms('ts')}, visitor, kind, ${EVENT_COLUMNS.join(', ')}`;
  out.events = await copyRows(
    c,
    duck,
    'event_facts',
    `SELECT ${evCols} FROM event_facts ${where}`,
    ['site', 'bigint', 'bigint', 'tinyint', ...EVENT_COLUMNS.map(() => 'int' as const)],
    sites,
  );

  // 2b. Custom events (kind 2) of those facts, with their names and properties from the archive
  // row the same transaction wrote (the facts hold no server requests, so neither does this).
  out.customEvents = await copyRows(
    c,
    duck,
    'custom_events',
    `SELECT f.site_id::text, ${ms('f.ts')}, f.visitor, e.name, p.key, p.value
       FROM (SELECT site_id, ts, event_id, visitor, kind FROM event_facts ${where}) f
       JOIN events e ON e.event_id = f.event_id AND e.ts = f.ts AND e.site_id = f.site_id
       CROSS JOIN LATERAL (
         SELECT NULL::text AS key, NULL::text AS value
         UNION ALL
         SELECT key, value FROM jsonb_each_text(CASE WHEN jsonb_typeof(e.record->'props') = 'object' THEN e.record->'props' END)
       ) p
      WHERE f.kind = 2`,
    ['site', 'bigint', 'bigint', 'text', 'text', 'text'],
    sites,
  );

  // 3. Visits: updated in place while they are open, so the copy's row with the key is replaced.
  const viCols = `site_id::text, ${ms('started_at')}, visitor, ${ms('ended_at')}, pageviews, duration_ms, bounce, ${VISIT_COLUMNS.join(', ')}`;
  out.visits = await copyRows(
    c,
    duck,
    'visit_stage',
    `SELECT ${viCols} FROM visit_facts ${where}`,
    ['site', 'bigint', 'bigint', 'bigint', 'int', 'int', 'bool', ...VISIT_COLUMNS.map(() => 'int' as const)],
    sites,
  );
  if (out.visits > 0) {
    if (lo > 0n)
      await duck.run(
        `DELETE FROM visit_facts v USING visit_stage s WHERE v.site = s.site AND v.started_at = s.started_at AND v.visitor = s.visitor`,
      );
    await duck.run('INSERT INTO visit_facts SELECT * FROM visit_stage');
    await duck.run('DELETE FROM visit_stage');
  }
  return out;
}
