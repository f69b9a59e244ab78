import type pg from 'pg';
import { transaction } from '@/lib/db/client';
import type { Bus } from '@/lib/bus';
import { eventRecordSchema } from '@/lib/events/record';
import { storable, storableText } from '@/lib/events/storable';
import { classifyFailure } from '../failure';
import { publishSiteChanges } from '@/lib/live/publish';
import { contentGroupOf, localDayStart, type SiteDimensionTable } from '../shared/dimensions';
import { minuteStatsAggregate, splitKey } from '../rollups/minute-stats';
import { upsertAdd } from '@/lib/rollups/window-writes';
import { MINUTE, HOUR } from '@/lib/time';
import { scheduledJob, type ScheduledJob } from '../shared/scheduled-job';

// Folds late events (beyond allowed lateness, set aside by the rollups job) into the rollups
// exactly once: rows of source partition −1 receive them (no operator owns those rows, so no
// firing can overwrite them), and each late event is marked reconciled in the same transaction.
// A late event that cannot be read, or a group of them that cannot be written, goes to
// dead_letters (topic `late_events`) and is marked done: it must not hold every later one back.

export const RECONCILED_PARTITION = -1;

interface LateRow {
  event_id: string;
  record: unknown;
}

/** `runOnce(limit?)`: one pass over up to `limit` late events; returns how many it folded in. */
export type ReconcileJob = ScheduledJob<[limit?: number], number>;

export function reconcileJob(deps: { db: pg.Pool; bus: Bus; dims: SiteDimensionTable }): ReconcileJob {
  const aggregate = minuteStatsAggregate();

  async function pass(limit: number): Promise<number> {
    const changed = new Set<string>();
    const n = await transaction(deps.db, async (tx) => {
      const late = await tx.query<LateRow>(
        'SELECT event_id, record FROM late_events WHERE reconciled_at IS NULL ORDER BY received_at LIMIT $1 FOR UPDATE SKIP LOCKED',
        [limit],
      );
      const groups = new Map<
        string,
        { siteId: string; minute: number; acc: ReturnType<typeof aggregate.create>; rows: LateRow[] }
      >();
      const dead: { row: LateRow; reason: string; siteId?: string }[] = [];
      for (const row of late.rows) {
        const parsed = eventRecordSchema.safeParse(storable(row.record));
        if (!parsed.success) {
          const i = parsed.error.issues[0]!;
          dead.push({ row, reason: `not an event record: ${i.path.join('.') || 'value'}: ${i.message}` });
          continue;
        }
        const e = parsed.data;
        const minute = Math.floor(e.ts / MINUTE) * MINUTE;
        const k = `${e.siteId}|${minute}`;
        const g = groups.get(k) ?? { siteId: e.siteId, minute, acc: aggregate.create(), rows: [] };
        aggregate.add(g.acc, { record: e, contentGroup: contentGroupOf(deps.dims.site(e.siteId), e.path) });
        g.rows.push(row);
        groups.set(k, g);
      }
      for (const g of groups.values()) {
        const deltas = [...g.acc].map(([key, cell]) => {
          const [dimension, value] = splitKey(key);
          return {
            dimension,
            value,
            dPageviews: cell.pageviews,
            dEvents: cell.events,
            visitors: JSON.stringify(cell.visitors.toJSON()),
          };
        });
        const tz = deps.dims.site(g.siteId).timezone;
        await tx.query('SAVEPOINT reconcile_group');
        try {
          await upsertAdd(
            tx,
            g.siteId,
            [
              ['minute', g.minute],
              ['hour', Math.floor(g.minute / HOUR) * HOUR],
              ['day', localDayStart(g.minute, tz)],
            ],
            RECONCILED_PARTITION,
            deltas,
          );
          await tx.query('RELEASE SAVEPOINT reconcile_group');
          changed.add(g.siteId);
        } catch (e) {
          if (classifyFailure(e) === 'transient') throw e;
          await tx.query('ROLLBACK TO SAVEPOINT reconcile_group');
          for (const row of g.rows)
            dead.push({ row, reason: `apply failed: ${(e as Error).message}`, siteId: g.siteId });
        }
      }
      if (dead.length) {
        // The late-event id stands in for the offset a topic record would have: one dead letter per event.
        await tx.query(
          `INSERT INTO dead_letters (job, topic, partition, "offset", key, value, reason, site_id)
           SELECT 'reconcile', 'late_events', -1, hashtextextended(u.id::text, 0), convert_to(u.id::text, 'UTF8'), convert_to(u.record::text, 'UTF8'), u.reason, u.site
           FROM unnest($1::uuid[], $2::jsonb[], $3::text[], $4::uuid[]) AS u(id, record, reason, site)
           ON CONFLICT DO NOTHING`,
          [
            dead.map((d) => d.row.event_id),
            dead.map((d) => JSON.stringify(storable(d.row.record))),
            dead.map((d) => storableText(d.reason).slice(0, 500)),
            dead.map((d) => d.siteId ?? null),
          ],
        );
        console.error(`[reconcile] ${dead.length} late event(s) dead-lettered: ${dead[0]!.reason}`);
      }
      if (late.rows.length)
        await tx.query('UPDATE late_events SET reconciled_at = now() WHERE event_id = ANY($1::uuid[])', [
          late.rows.map((r) => r.event_id),
        ]);
      return late.rows.length;
    });
    if (changed.size) await publishSiteChanges(deps.bus, changed).catch(() => undefined);
    return n;
  }

  return scheduledJob<[limit?: number], number>('reconcile', (limit = 1000) => pass(limit), { everyMs: 5000 });
}
