import { guardedPool } from '@/lib/db/client';
import { partitionFor, silentPublisher as silentBus, type BusMessage } from '@/lib/bus';
import { transaction } from '@/lib/db/transaction';
import type { Env } from '@/lib/env';
import { eventKey, eventRecordSchema, type EventRecord } from '@/lib/events/record';
import { peaksJob, type PeaksSettings } from '../peaks/peaks-job';
import { rollupsJob } from '../rollups/rollups-job';
import type { Job } from '../runtime';
import { applyRecords } from '../consumer/steps';
import { sessionsJob } from '../sessions/sessions-job';
import { funnelsJob } from '../funnels/funnels-job';
import { DefinitionsTable } from '../insights/definitions';
import { insightsJob, type InsightsSettings } from '../insights/insights-job';
import { SiteDimensionTable } from '../shared/dimensions';
import { DAY } from '@/lib/time';

// Replay (the Kappa answer to backfills): the same job code re-runs over the raw events archive
// into a scratch schema. One code path for streaming and backfill. Records are fed per source
// partition in the order they were received, exactly as the streaming jobs consumed them.

const OUTPUT_TABLES = [
  'rollups',
  'sessions',
  'event_facts',
  'visit_facts',
  'fact_tombstones',
  'dimension_values',
  'peak_windows',
  'minute_partials',
  'late_events',
  'dead_letters',
  'event_ids',
  'consumer_progress',
  'ingestion_ledger',
  'events',
  'event_rollups',
  'goal_conversions',
  'funnel_attempts',
];

/** A bus stand-in that swallows side effects (live notices, the late topic) during a replay. */

/** What a replay reads of the settings: every replayed job's, and the partition count records are split by. */
export type ReplaySettings = InsightsSettings & PeaksSettings & Pick<Env, 'EVENTS_PARTITIONS'>;

export async function replay(opts: {
  databaseUrl: string;
  from: Date;
  to: Date;
  settings: ReplaySettings;
  schema?: string;
  batchSize?: number;
}): Promise<{ schema: string; events: number }> {
  const { settings } = opts;
  const partitions = settings.EVENTS_PARTITIONS;
  const schema = opts.schema ?? `replay_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid schema name ${schema}`);
  const admin = guardedPool({ connectionString: opts.databaseUrl, max: 2 }, 'replay admin');
  const scratch = guardedPool(
    { connectionString: opts.databaseUrl, max: 4, options: `-c search_path=${schema},public` },
    'replay',
  );
  try {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    for (const t of OUTPUT_TABLES) {
      await admin.query(`DROP TABLE IF EXISTS "${schema}"."${t}"`);
      await admin.query(`CREATE TABLE "${schema}"."${t}" (LIKE public."${t}" INCLUDING DEFAULTS INCLUDING IDENTITY)`);
    }
    // Primary keys (the upserts rely on them); sequences for bigserial ids.
    await admin.query(
      `ALTER TABLE "${schema}".rollups ADD PRIMARY KEY (site_id, granularity, bucket, dimension, value, source_partition)`,
    );
    await admin.query(`ALTER TABLE "${schema}".sessions ADD PRIMARY KEY (site_id, visitor_id, started_at)`);
    await admin.query(`ALTER TABLE "${schema}".event_facts ADD PRIMARY KEY (site_id, ts, event_id)`);
    await admin.query(`ALTER TABLE "${schema}".visit_facts ADD PRIMARY KEY (site_id, started_at, visitor)`);
    await admin.query(
      `ALTER TABLE "${schema}".dimension_values ADD PRIMARY KEY (id), ADD UNIQUE (site_id, dimension, value)`,
    );
    await admin.query(
      `ALTER TABLE "${schema}".peak_windows ADD PRIMARY KEY (site_id, day, content_group, window_size_minutes)`,
    );
    await admin.query(`ALTER TABLE "${schema}".late_events ADD PRIMARY KEY (event_id)`);
    await admin.query(`ALTER TABLE "${schema}".event_ids ADD PRIMARY KEY (job, event_id)`);
    await admin.query(`ALTER TABLE "${schema}".consumer_progress ADD PRIMARY KEY (job, topic, partition)`);
    await admin.query(`ALTER TABLE "${schema}".ingestion_ledger ADD PRIMARY KEY (site_id, minute)`);
    await admin.query(`ALTER TABLE "${schema}".dead_letters ADD UNIQUE (job, topic, partition, "offset")`);
    await admin.query(
      `ALTER TABLE "${schema}".event_rollups ADD PRIMARY KEY (site_id, granularity, bucket, kind, value, source_partition)`,
    );
    await admin.query(`ALTER TABLE "${schema}".goal_conversions ADD PRIMARY KEY (goal_id, event_id)`);
    await admin.query(`ALTER TABLE "${schema}".funnel_attempts ADD PRIMARY KEY (funnel_id, visitor_id, started_at)`);
    for (const t of ['minute_partials', 'dead_letters', 'dimension_values']) {
      await admin.query(`CREATE SEQUENCE IF NOT EXISTS "${schema}"."${t}_id_seq"`);
      await admin.query(
        `ALTER TABLE "${schema}"."${t}" ALTER COLUMN id SET DEFAULT nextval('"${schema}"."${t}_id_seq"')`,
      );
    }

    const dims = new SiteDimensionTable(admin);
    await dims.refresh();
    // Goals and funnels as defined now: a funnel defined today is backfilled over the archive by the same code.
    const defs = new DefinitionsTable(admin);
    await defs.refresh();
    const jobs: Job<EventRecord>[] = [
      rollupsJob({ bus: silentBus, db: scratch, dims, settings }),
      sessionsJob({ bus: silentBus, db: scratch, dims, settings }),
      insightsJob({ bus: silentBus, dims, defs, settings }),
      funnelsJob({ bus: silentBus, defs, dims, settings }),
    ];
    for (const j of jobs) for (let p = 0; p < partitions; p++) j.restore(p, null);

    const rows = await admin.query<{ record: unknown }>(
      'SELECT record FROM public.events WHERE ts >= $1 AND ts < $2 ORDER BY received_at, event_id',
      [opts.from.toISOString(), opts.to.toISOString()],
    );
    const byPartition = new Map<number, { message: BusMessage; record: EventRecord }[]>();
    let offset = 0;
    for (const row of rows.rows) {
      const record = eventRecordSchema.parse(row.record);
      const partition = partitionFor(eventKey(record), partitions);
      const message: BusMessage = {
        topic: 'replay',
        partition,
        offset: String(offset++),
        key: null,
        value: null,
        timestamp: record.ts,
        headers: {},
      };
      const list = byPartition.get(partition) ?? [];
      list.push({ message, record });
      byPartition.set(partition, list);
    }
    const size = opts.batchSize ?? 200;
    for (const [partition, list] of byPartition) {
      for (let i = 0; i < list.length; i += size) {
        const chunk = list.slice(i, i + size);
        for (const j of jobs) await transaction(scratch, (tx) => applyRecords(j, tx, partition, chunk));
      }
      for (const j of jobs) await transaction(scratch, async (tx) => j.flush?.(tx, partition));
    }
    // End of input: consume every partial, then let event time run out so every window fires.
    let replayClock = Date.now();
    const peaks = peaksJob({ db: scratch, bus: silentBus, dims, settings, clock: () => replayClock });
    while ((await peaks.runOnce(replayClock, 5000)) > 0);
    replayClock += 365 * DAY;
    await peaks.runOnce(replayClock, 5000);
    return { schema, events: rows.rows.length };
  } finally {
    await scratch.end();
    await admin.end();
  }
}
