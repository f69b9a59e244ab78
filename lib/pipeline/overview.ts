import { bus, topics } from '../bus';
import { pool } from '../db/client';
import { HOUR, MINUTE } from '@/lib/time';
import { columnarStore } from '../analytics/columnar/engine';

/** A heartbeat older than this (three of workers/presence.ts' 5 s intervals) means the process is gone or frozen. */
const ALIVE_MS = 15_000;

// The operator's view of the pipeline, like Flink's web UI: per job and partition the position,
// lag, watermark, checkpoint time and size, dimension-table version; worker processes from their
// heartbeats; throughput in and out; dead letters and late events.
// Partition owners come from partition_owners (written by the runtime on every assignment) and
// are alive while their process heartbeats (workers/presence.ts).

export interface PartitionRow {
  job: string;
  topic: string;
  partition: number;
  nextOffset: string;
  endOffset: string | null;
  lag: number | null;
  watermark: number | null;
  dimensionVersion: number | null;
  /**
   * 'bus': a consumer group's partition of a bus topic, owned by one member at a time;
   * 'database': an in-database changelog (peaks' minute_partials) that any worker processes in turn, under a lock.
   */
  source: 'bus' | 'database';
  /** Null: assigned, but no batch applied yet. */
  checkpointAt: number | null;
  checkpointBytes: number;
  /** The process the partition was last assigned to; alive while it heartbeats. Null: never recorded, or released. */
  owner: { workerId: string; host: string | null; pid: number | null; alive: boolean; assignedAt: number } | null;
}

export interface PipelineOverview {
  at: number;
  partitions: PartitionRow[];
  workers: {
    workerId: string;
    host: string;
    pid: number;
    jobs: string[];
    startedAt: number;
    seenAt: number;
    alive: boolean;
  }[];
  eventsInPerSecond: number;
  eventsOutPerSecond: number;
  deadLetters: { job: string; count: number }[];
  lateEvents: { pending: number; reconciled: number };
  dimensionRefreshedAt: number | null;
  /** The raw archive per site as the retention job last measured it (issue 16), largest first. */
  archive: {
    siteId: string;
    name: string;
    domain: string;
    retentionDays: number | null;
    rows: number;
    bytes: number;
    oldest: number | null;
    measuredAt: number | null;
  }[];
  /** Where this web process computes filtered views (lib/analytics/columnar/). */
  filterEngine: {
    engine: 'columnar' | 'postgres';
    ready: boolean;
    loadMs: number | null;
    loaded: { events: number; visits: number; customEvents: number } | null;
    /** Transactions in progress at the last sync, whose rows the copy applies when they end. */
    pending: number;
    reads: number;
    declined: number;
  };
}

export async function pipelineOverview(now = Date.now()): Promise<PipelineOverview> {
  const db = pool();
  const [progress, workers, rates, dead, late, dims, owners, archive] = await Promise.all([
    db.query<{
      job: string;
      topic: string;
      partition: number;
      next_offset: string;
      updated_at: Date;
      bytes: number;
      watermark: string | null;
      dimension_version: string | null;
    }>(
      // state is json (stored as written), read here as jsonb once per row; jsonb refuses the
      // \u0000 and lone-surrogate escapes json takes, so such a checkpoint shows no watermark
      // rather than failing the page.
      `SELECT job, topic, partition, next_offset::text, updated_at, COALESCE(octet_length(state::text), 0) AS bytes,
         jsonb_path_query_first(j.js, 'strict $.**.watermark') #>> '{}' AS watermark,
         jsonb_path_query_first(j.js, 'strict $.**.dimensionVersion') #>> '{}' AS dimension_version
       FROM consumer_progress
       CROSS JOIN LATERAL (SELECT CASE WHEN state::text !~ '\\\\u(0000|[dD][89a-fA-F])' THEN state::jsonb END AS js) j
       ORDER BY job, topic, partition`,
    ),
    db.query<{ worker_id: string; host: string; pid: number; jobs: string[]; started_at: Date; seen_at: Date }>(
      'SELECT * FROM worker_heartbeats ORDER BY started_at',
    ),
    db.query<{ accepted: string; archived: string }>(
      `SELECT (SELECT COALESCE(sum(accepted), 0) FROM ingestion_ledger WHERE minute >= $1 AND minute < $2)::text AS accepted,
              (SELECT count(*) FROM events WHERE ts >= $3 AND received_at >= $1 AND received_at < $2)::text AS archived`,
      [
        new Date(Math.floor(now / MINUTE) * MINUTE - MINUTE),
        new Date(Math.floor(now / MINUTE) * MINUTE),
        new Date(now - HOUR),
      ],
    ),
    db.query<{ job: string; n: string }>('SELECT job, count(*)::text AS n FROM dead_letters GROUP BY job ORDER BY job'),
    db.query<{ pending: string; reconciled: string }>(
      'SELECT count(*) FILTER (WHERE reconciled_at IS NULL)::text AS pending, count(*) FILTER (WHERE reconciled_at IS NOT NULL)::text AS reconciled FROM late_events',
    ),
    db.query<{ at: Date | null }>('SELECT max(updated_at) AS at FROM sites'),
    db.query<{
      job: string;
      topic: string;
      partition: number;
      worker_id: string;
      assigned_at: Date;
      host: string | null;
      pid: number | null;
      seen_at: Date | null;
    }>(
      `SELECT o.job, o.topic, o.partition, o.worker_id, o.assigned_at, w.host, w.pid, w.seen_at
       FROM partition_owners o LEFT JOIN worker_heartbeats w ON w.worker_id = o.worker_id`,
    ),
    db.query<{
      id: string;
      name: string;
      domain: string;
      retention_days: number | null;
      rows: string | null;
      bytes: string | null;
      oldest: Date | null;
      measured_at: Date | null;
    }>(
      `SELECT s.id, s.name, s.domain, s.retention_days, a.rows::text, a.bytes::text, a.oldest, a.measured_at
       FROM sites s LEFT JOIN site_archive_stats a ON a.site_id = s.id ORDER BY a.bytes DESC NULLS LAST, s.name LIMIT 200`,
    ),
  ]);
  const isAlive = (seenAt: Date | null) => !!seenAt && now - seenAt.getTime() < ALIVE_MS;
  const key = (r: { job: string; topic: string; partition: number }) => `${r.job}\u0000${r.topic}\u0000${r.partition}`;
  const ownerOf = new Map(owners.rows.map((o) => [key(o), o]));
  // A partition that is assigned but has not applied a batch yet has no progress row: list it too.
  const progressKeys = new Set(progress.rows.map(key));
  const rows = [
    ...progress.rows,
    ...owners.rows
      .filter((o) => !progressKeys.has(key(o)))
      .map((o) => ({
        job: o.job,
        topic: o.topic,
        partition: o.partition,
        next_offset: '0',
        updated_at: null,
        bytes: 0,
        watermark: null,
        dimension_version: null,
      })),
  ].sort((a, b) => a.job.localeCompare(b.job) || a.topic.localeCompare(b.topic) || a.partition - b.partition);
  const ends = new Map<string, Map<number, string>>();
  for (const topic of new Set([...progress.rows, ...owners.rows].map((r) => r.topic))) {
    if (topic !== topics.events) continue;
    try {
      ends.set(topic, new Map((await bus().topicOffsets(topic)).map((o) => [o.partition, o.high])));
    } catch {
      // bus unreachable: show positions without lag
    }
  }
  return {
    at: now,
    partitions: rows.map((r) => {
      const end = ends.get(r.topic)?.get(r.partition) ?? null;
      return {
        job: r.job,
        topic: r.topic,
        partition: r.partition,
        source: r.topic === topics.events ? 'bus' : 'database',
        nextOffset: r.next_offset,
        endOffset: end,
        lag: end === null ? null : Math.max(0, Number(BigInt(end) - BigInt(r.next_offset))),
        watermark: r.watermark !== null && Number.isFinite(Number(r.watermark)) ? Number(r.watermark) : null,
        dimensionVersion:
          r.dimension_version !== null && Number.isFinite(Number(r.dimension_version))
            ? Number(r.dimension_version)
            : null,
        checkpointAt: r.updated_at?.getTime() ?? null,
        checkpointBytes: r.bytes,
        owner: ((o) =>
          o
            ? {
                workerId: o.worker_id,
                host: o.host,
                pid: o.pid,
                alive: isAlive(o.seen_at),
                assignedAt: o.assigned_at.getTime(),
              }
            : null)(ownerOf.get(key(r))),
      };
    }),
    workers: workers.rows.map((w) => ({
      workerId: w.worker_id,
      host: w.host,
      pid: w.pid,
      jobs: w.jobs,
      startedAt: w.started_at.getTime(),
      seenAt: w.seen_at.getTime(),
      alive: isAlive(w.seen_at),
    })),
    eventsInPerSecond: Number(rates.rows[0]!.accepted) / 60,
    eventsOutPerSecond: Number(rates.rows[0]!.archived) / 60,
    deadLetters: dead.rows.map((d) => ({ job: d.job, count: Number(d.n) })),
    lateEvents: { pending: Number(late.rows[0]!.pending), reconciled: Number(late.rows[0]!.reconciled) },
    dimensionRefreshedAt: dims.rows[0]?.at?.getTime() ?? null,
    filterEngine: ((store) => ({
      engine: store ? ('columnar' as const) : ('postgres' as const),
      ready: store?.stats.ready ?? false,
      loadMs: store?.stats.loadMs ?? null,
      loaded: store?.stats.loaded ?? null,
      pending: store?.stats.lastSync?.cursor.pending.length ?? 0,
      reads: store?.stats.reads ?? 0,
      declined: store?.stats.declined ?? 0,
    }))(columnarStore()),
    archive: archive.rows.map((a) => ({
      siteId: a.id,
      name: a.name,
      domain: a.domain,
      retentionDays: a.retention_days,
      rows: Number(a.rows ?? 0),
      bytes: Number(a.bytes ?? 0),
      oldest: a.oldest?.getTime() ?? null,
      measuredAt: a.measured_at?.getTime() ?? null,
    })),
  };
}
