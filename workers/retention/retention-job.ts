import type pg from 'pg';
import { eraseDeletedSitesFromLog, trimLog, type LogTrimReport } from '@/lib/bus/embedded';
import { enforceRetention, type RetentionReport } from '@/lib/events/retention';
import { scheduledJob, type ScheduledJob } from '../shared/scheduled-job';
import { HOUR } from '@/lib/time';
import { listenForLoss } from '@/lib/db/transaction';

// The retention job (lib/events/retention.ts): every RETENTION_INTERVAL_MS, one pass over all
// sites, then the embedded log: deleted sites' records that arrived after their erasure, and —
// in zero-config mode — its retention (lib/bus/embedded.ts). One pass at a time across workers
// (a session advisory lock); a pass that finds it taken does nothing. The clock is injected so
// tests run it at a fixed instant.

const LOCK_ID = 0x5e7e_1600;

export interface RetentionPassReport extends RetentionReport {
  /** Null when the bus is not the embedded log (Kafka keeps its own retention). */
  log: LogTrimReport | null;
  /** Records of deleted sites erased from the embedded log (arrived after their site's erasure). */
  erasedFromLog: number;
}

/** `runOnce(now?)`: one pass; null when another worker's pass holds the lock. */
export type RetentionJob = ScheduledJob<[now?: number], RetentionPassReport | null>;

export interface RetentionJobDeps {
  db: pg.Pool;
  clock?: () => number;
  /** EMBEDDED_LOG_RETENTION_MS, given only when the bus is the embedded log. */
  logRetentionMs?: number;
}

export function retentionJob(deps: RetentionJobDeps): RetentionJob {
  const clock = deps.clock ?? Date.now;

  async function pass(now: number): Promise<RetentionPassReport | null> {
    const c = await deps.db.connect();
    const guard = listenForLoss(c, 'holding the retention lock');
    try {
      const got = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LOCK_ID]);
      if (!got.rows[0]!.ok) return null;
      try {
        const r = await enforceRetention(deps.db, now);
        // Background exports past their link's expiry (their chunks cascade).
        await deps.db.query('DELETE FROM exports WHERE expires_at < $1', [new Date(now)]);
        if (r.droppedPartitions.length || r.deletedEvents || r.deletedSessions) {
          console.log(
            `[retention] dropped ${r.droppedPartitions.length} partition(s), deleted ${r.deletedEvents} event(s) and ${r.deletedSessions} visit(s) past retention`,
          );
        }
        // In either mode: a log left from zero-config days still holds the records it held.
        const erasedFromLog = await eraseDeletedSitesFromLog(deps.db);
        if (erasedFromLog)
          console.log(`[retention] erased ${erasedFromLog} record(s) of deleted sites from the embedded log`);
        const log =
          deps.logRetentionMs === undefined ? null : await trimLog(deps.db, { now, retentionMs: deps.logRetentionMs });
        if (log?.deleted) console.log(`[retention] trimmed ${log.deleted} record(s) from the embedded log`);
        for (const h of log?.heldBack ?? []) {
          console.log(
            `[retention] embedded log ${h.topic}/${h.partition}: records past retention kept from offset ${h.slowest}, not yet consumed by every group`,
          );
        }
        return { ...r, log, erasedFromLog };
      } finally {
        // A lost connection has released the lock with it: nothing to unlock then.
        await c.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => undefined);
      }
    } finally {
      guard.release();
    }
  }

  // The first pass runs at start: a worker started after a long stop catches up at once.
  return scheduledJob<[now?: number], RetentionPassReport | null>('retention', (now = clock()) => pass(now), {
    everyMs: HOUR,
    immediately: true,
  });
}
