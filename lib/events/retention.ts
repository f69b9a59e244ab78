import type pg from 'pg';
import { forgetExpiredHandovers } from '@/lib/collect/identity/handover';
import { DAY } from '@/lib/time';
import { listenForLoss, transaction } from '@/lib/db/transaction';
import { TOMBSTONE_KEEP_MS } from '@/lib/analytics/columnar/sync';

// Retention of the raw archive (issue 16). Owner of `site_archive_stats`.
//
// Each site keeps its raw events (and its visit rows, which carry visitor ids too) for
// `sites.retention_days` days — null keeps them forever; rollups stay whatever the setting, so
// dashboards keep their history, only filtered views and raw exports end at the horizon.
// The archive is partitioned by UTC day, shared by all sites, so enforcing is two moves:
//   - a day partition that lies wholly before every site's horizon is detached and dropped — no
//     row-by-row delete, no bloat, and the disk space is back at once;
//   - a site whose horizon is shorter than the longest one gets its older rows deleted (by the
//     (site_id, ts) index, partition by partition).
// Then expired visitor-id handovers go (lib/collect/identity/handover.ts owns them) and the
// archive's size per site is measured for the pipeline page. Pure of wall-clock time:
// `now` is passed in.

/** The retention a new site gets: 25 months (the CNIL's bound for audience-measurement data). */
export const DEFAULT_RETENTION_DAYS = 760;
/** What the settings offer (null = forever). */
export const RETENTION_CHOICES: (number | null)[] = [30, 90, 180, 365, DEFAULT_RETENTION_DAYS, null];

export interface RetentionReport {
  droppedPartitions: string[];
  deletedEvents: number;
  deletedSessions: number;
}

/** "events_2026_03_28" → its day's start (ms), or null for events_default and anything else. */
export function partitionDay(name: string): number | null {
  const m = /^events_(\d{4})_(\d{2})_(\d{2})$/.exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

/** The instant before which a site's raw rows are past retention (null: kept forever). */
export function retentionHorizon(retentionDays: number | null, now: number): number | null {
  return retentionDays === null ? null : now - retentionDays * DAY;
}

/**
 * Partitions every site's horizon has passed: the partition's whole day lies before the
 * earliest horizon of any site (a site that keeps forever keeps every partition).
 */
export function droppablePartitions(partitions: string[], retentions: (number | null)[], now: number): string[] {
  if (retentions.length === 0 || retentions.some((r) => r === null)) return [];
  const earliest = Math.min(...retentions.map((r) => retentionHorizon(r, now)!));
  return partitions.filter((p) => {
    const day = partitionDay(p);
    return day !== null && day + DAY <= earliest;
  });
}

export async function enforceRetention(p: pg.Pool, now: number): Promise<RetentionReport> {
  const report: RetentionReport = { droppedPartitions: [], deletedEvents: 0, deletedSessions: 0 };
  const sites = await p.query<{ id: string; retention_days: number | null }>('SELECT id, retention_days FROM sites');
  const parts = await p.query<{ relname: string }>(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass",
  );
  const drop = droppablePartitions(
    parts.rows.map((r) => r.relname),
    sites.rows.map((s) => s.retention_days),
    now,
  );
  for (const name of drop) {
    // Detaching takes a short exclusive lock on `events`; waiting behind a long query would hold
    // every insert up behind us, so give up after a moment and try again next pass.
    const c = await p.connect();
    const guard = listenForLoss(c, 'detaching a partition');
    try {
      await c.query("SET lock_timeout = '2s'");
      await c.query(`ALTER TABLE events DETACH PARTITION "${name}"`);
      await c.query(`DROP TABLE "${name}"`);
      report.droppedPartitions.push(name);
    } catch (e) {
      if ((e as { code?: string }).code !== '55P03') throw e;
    } finally {
      await c.query('RESET lock_timeout').catch(() => undefined);
      guard.release();
    }
  }
  for (const s of sites.rows) {
    const horizon = retentionHorizon(s.retention_days, now);
    if (horizon === null) continue;
    const at = new Date(horizon).toISOString();
    report.deletedEvents +=
      (await p.query('DELETE FROM events WHERE site_id = $1 AND ts < $2', [s.id, at])).rowCount ?? 0;
    report.deletedSessions +=
      (await p.query('DELETE FROM sessions WHERE site_id = $1 AND started_at < $2', [s.id, at])).rowCount ?? 0;
    // The filter facts go with what they were derived from; the tombstone tells the columnar copies.
    await transaction(p, async (c) => {
      const events = (await c.query('DELETE FROM event_facts WHERE site_id = $1 AND ts < $2', [s.id, at])).rowCount;
      const visits = (await c.query('DELETE FROM visit_facts WHERE site_id = $1 AND started_at < $2', [s.id, at]))
        .rowCount;
      if (events || visits) await c.query('INSERT INTO fact_tombstones (site_id, before) VALUES ($1, $2)', [s.id, at]);
    });
    // Late events wait for the reconcile job; once folded in they are raw rows like the archive.
    await p.query('DELETE FROM late_events WHERE site_id = $1 AND ts < $2 AND reconciled_at IS NOT NULL', [s.id, at]);
  }
  // Not by a site's retention: a handover is useless minutes after its rotation (collect sweeps too).
  await forgetExpiredHandovers(p, now);
  // The value dictionary is written outside the jobs' transactions (workers/shared/value-dictionary.ts),
  // so a batch in flight while its site was deleted can add values after the deletion removed
  // the site's: whatever names a site that no longer exists goes here.
  await p.query('DELETE FROM dimension_values d WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.id = d.site_id)');
  // A copy that has not synced for this long reloads instead (lib/analytics/columnar/).
  // Their age is the database's own business (created_at is its clock), not the injected `now`.
  await p.query('DELETE FROM fact_tombstones WHERE created_at < now() - make_interval(secs => $1::float8 / 1000)', [
    TOMBSTONE_KEEP_MS,
  ]);
  await measureArchive(p, now);
  return report;
}

/** Rows, bytes (as stored, before compression and indexes) and the oldest event per site. */
export async function measureArchive(p: pg.Pool, now: number): Promise<void> {
  await p.query(
    `INSERT INTO site_archive_stats (site_id, rows, bytes, oldest, measured_at)
     SELECT s.id, COALESCE(a.n, 0), COALESCE(a.bytes, 0), a.oldest, $1 FROM sites s
       LEFT JOIN (SELECT site_id, count(*) AS n, sum(pg_column_size(e.*)) AS bytes, min(ts) AS oldest FROM events e GROUP BY site_id) a ON a.site_id = s.id
     ON CONFLICT (site_id) DO UPDATE SET rows = EXCLUDED.rows, bytes = EXCLUDED.bytes, oldest = EXCLUDED.oldest, measured_at = EXCLUDED.measured_at`,
    [new Date(now).toISOString()],
  );
}
