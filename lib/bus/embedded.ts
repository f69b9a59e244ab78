import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { transaction } from '../db/transaction';
import { HOUR } from '../time';
import { EddyError } from '../errors';
import { SendCoalescer } from './coalesce';
import { partitionFor } from './partitioner';
import type {
  Bus,
  BusConsumer,
  BusMessage,
  BusProducer,
  ConsumedBatch,
  ConsumerOptions,
  DeliveryReport,
  OutgoingMessage,
  PartitionOffsets,
  SeekTarget,
  TopicPartition,
} from './types';

// The zero-config event log: Kafka's model (topics, partitions by key hash, offsets, consumer
// groups with committed positions) stored in PostgreSQL, so a single machine needs no broker and
// a restart loses nothing. Durability is PostgreSQL's commit. Exclusive partition ownership in a
// group comes from session-level advisory locks held on each consumer's own connection: if the
// process dies its connection closes and the partition is free for another member at once.
// Producers wake consumers with NOTIFY; consumers also poll every 100 ms as a fallback.

const NOTIFY_CHANNEL = 'eddy_bus';
const FETCH_WAIT_MS = 100;

export class EmbeddedBus implements Bus {
  readonly kind = 'embedded' as const;
  private readonly partitionCounts = new Map<string, number>();
  private theProducer?: EmbeddedProducer;
  private readonly consumers = new Set<EmbeddedConsumer>();

  constructor(
    readonly pool: pg.Pool,
    readonly connectionString: string,
  ) {}

  async createTopics(topics: { name: string; partitions: number }[]): Promise<void> {
    for (const t of topics) {
      await this.pool.query(
        `WITH t AS (
           INSERT INTO bus_topics (name, partitions) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET partitions = GREATEST(bus_topics.partitions, EXCLUDED.partitions)
           RETURNING partitions)
         INSERT INTO bus_partitions (topic, partition)
         SELECT $1, generate_series(0, (SELECT partitions FROM t) - 1)
         ON CONFLICT DO NOTHING`,
        [t.name, t.partitions],
      );
      this.partitionCounts.delete(t.name);
    }
  }

  async partitionCount(topic: string): Promise<number> {
    const known = this.partitionCounts.get(topic);
    if (known) return known;
    const r = await this.pool.query<{ partitions: number }>('SELECT partitions FROM bus_topics WHERE name = $1', [
      topic,
    ]);
    const count = r.rows[0]?.partitions;
    if (!count) throw new EddyError('unavailable', `Topic ${topic} does not exist`);
    this.partitionCounts.set(topic, count);
    return count;
  }

  producer(): BusProducer {
    this.theProducer ??= new EmbeddedProducer(this);
    return this.theProducer;
  }

  consumer(options: ConsumerOptions): BusConsumer {
    const c = new EmbeddedConsumer(this, options);
    this.consumers.add(c);
    return c;
  }

  async resolveSeek(topic: string, partition: number, target: SeekTarget): Promise<bigint> {
    if (typeof target === 'string' && /^\d+$/.test(target)) return BigInt(target);
    const offsets = (await this.topicOffsets(topic)).find((o) => o.partition === partition);
    if (!offsets) throw new EddyError('bad_request', `No partition ${partition} in ${topic}`);
    if (target === 'earliest') return BigInt(offsets.low);
    if (target === 'latest') return BigInt(offsets.high);
    if (typeof target === 'object') {
      const r = await this.pool.query<{ offset: string | null }>(
        'SELECT min("offset")::text AS offset FROM bus_messages WHERE topic = $1 AND partition = $2 AND timestamp >= $3',
        [topic, partition, target.timestamp],
      );
      return BigInt(r.rows[0]?.offset ?? offsets.high);
    }
    throw new EddyError('bad_request', `Unknown seek target ${String(target)}`);
  }

  async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const r = await this.pool.query<{ partition: number; low: string; high: string }>(
      `SELECT p.partition, p.next_offset::text AS high,
              COALESCE((SELECT min(m."offset") FROM bus_messages m WHERE m.topic = p.topic AND m.partition = p.partition), p.next_offset)::text AS low
       FROM bus_partitions p WHERE p.topic = $1 ORDER BY p.partition`,
      [topic],
    );
    return r.rows;
  }

  async firstStoredOffset(topic: string, partition: number, from: string): Promise<string | null> {
    const r = await this.pool.query<{ offset: string | null }>(
      'SELECT min("offset")::text AS offset FROM bus_messages WHERE topic = $1 AND partition = $2 AND "offset" >= $3',
      [topic, partition, from],
    );
    return r.rows[0]?.offset ?? null;
  }

  async committedOffsets(groupId: string, topic: string): Promise<{ partition: number; offset: string | null }[]> {
    const r = await this.pool.query<{ partition: number; offset: string | null }>(
      `SELECT p.partition, o."offset"::text AS offset FROM bus_partitions p
       LEFT JOIN bus_group_offsets o ON o.group_id = $1 AND o.topic = p.topic AND o.partition = p.partition
       WHERE p.topic = $2 ORDER BY p.partition`,
      [groupId, topic],
    );
    return r.rows;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.stop()));
  }
}

export interface LogTrimReport {
  /** Records deleted. */
  deleted: number;
  /** Partitions where records past retention were kept because a group has not consumed them yet. */
  heldBack: { topic: string; partition: number; slowest: string }[];
}

const TRIM_CHUNK = 10_000;

/**
 * Retention of the embedded log, like Kafka's retention.ms: per partition, deletes the records
 * before the first one younger than `retentionMs` (by record timestamp) — a prefix, as Kafka drops
 * whole segments, so the log stays contiguous — but never a record some consumer group has not
 * committed past. A group's position is the slower of its bus commit (bus_group_offsets) and,
 * for the stream jobs, their stored position (consumer_progress, the one they resume from); a
 * group with a position on some partition of a topic but none on this one has consumed nothing
 * here. A topic no group commits on (`live`, `late`: read from the end by each web process, or
 * not at all) is trimmed by age alone. Pure of wall-clock time: `now` is passed in.
 */
export async function trimLog(db: pg.Pool, opts: { now: number; retentionMs: number }): Promise<LogTrimReport> {
  const report: LogTrimReport = { deleted: 0, heldBack: [] };
  const cutoff = opts.now - opts.retentionMs;
  const partitions = await db.query<{ topic: string; partition: number; next_offset: string; slowest: string | null }>(
    `SELECT p.topic, p.partition, p.next_offset::text AS next_offset,
            (SELECT min(pos) FROM (
               SELECT COALESCE(o."offset", 0) AS pos FROM (SELECT DISTINCT group_id FROM bus_group_offsets WHERE topic = p.topic) g
                 LEFT JOIN bus_group_offsets o ON o.group_id = g.group_id AND o.topic = p.topic AND o.partition = p.partition
               UNION ALL
               SELECT COALESCE(c.next_offset, 0) FROM (SELECT DISTINCT job FROM consumer_progress WHERE topic = p.topic) j
                 LEFT JOIN consumer_progress c ON c.job = j.job AND c.topic = p.topic AND c.partition = p.partition
             ) x)::text AS slowest
       FROM bus_partitions p ORDER BY p.topic, p.partition`,
  );
  for (const p of partitions.rows) {
    // Scanning in offset order from the start stops at the first young record: what it passes over is what goes.
    const young = await db.query<{ offset: string }>(
      'SELECT m."offset"::text AS offset FROM bus_messages m WHERE m.topic = $1 AND m.partition = $2 AND m.timestamp >= $3 ORDER BY m."offset" LIMIT 1',
      [p.topic, p.partition, cutoff],
    );
    const byAge = BigInt(young.rows[0]?.offset ?? p.next_offset);
    let cut = byAge;
    if (p.slowest !== null && BigInt(p.slowest) < cut) cut = BigInt(p.slowest);
    const low = await db.query<{ offset: string | null }>(
      'SELECT min("offset")::text AS offset FROM bus_messages WHERE topic = $1 AND partition = $2',
      [p.topic, p.partition],
    );
    if (low.rows[0]?.offset == null) continue;
    let from = BigInt(low.rows[0].offset);
    if (cut < byAge && from < byAge)
      report.heldBack.push({ topic: p.topic, partition: p.partition, slowest: cut.toString() });
    // In chunks, so no one statement holds many row locks or a long transaction.
    while (from < cut) {
      const to = from + BigInt(TRIM_CHUNK) < cut ? from + BigInt(TRIM_CHUNK) : cut;
      const r = await db.query(
        'DELETE FROM bus_messages WHERE topic = $1 AND partition = $2 AND "offset" >= $3 AND "offset" < $4',
        [p.topic, p.partition, from.toString(), to.toString()],
      );
      report.deleted += r.rowCount ?? 0;
      from = to;
    }
  }
  return report;
}

// A site's records in the log are keyed by its id: `<site id>:<visitor id>` on `events`,
// `<site id>` on `live` and `late` (lib/events/record.ts eventKey, lib/live/publish.ts).

/**
 * Erases a site's records from the log, consumed or not (site deletion, lib/sites/site-data.ts).
 * Offsets are not reused, so this leaves holes; a stream job reading across one finds nothing
 * missing (`firstStoredOffset`) and reads on. Returns the records deleted.
 */
export async function eraseSiteFromLog(db: pg.Pool | pg.PoolClient, siteId: string): Promise<number> {
  const r = await db.query('DELETE FROM bus_messages WHERE key = $1 OR substring(key FROM 1 FOR $2) = $3', [
    Buffer.from(siteId),
    Buffer.byteLength(siteId) + 1,
    Buffer.from(`${siteId}:`),
  ]);
  return r.rowCount ?? 0;
}

/** How long after its deletion a site's records can still arrive in the log (collect caches site keys for 30 s; sends retry for seconds). */
const IN_FLIGHT_MARGIN_MS = HOUR;

/**
 * Erases records of deleted sites that reached the log after their site's erasure (in flight
 * while it ran, or accepted by collect before its site-key cache expired); run by the retention
 * job. deleted_sites holds only SHA-256 hashes of the ids (lib/sites/site-data.ts siteHash: of
 * the lower-case id, as PostgreSQL prints uuids), so each key's site id is hashed here the same way.
 * That scans the log, so only while it can hold such records: a deletion less than the margin
 * older than the log's oldest record (record timestamps are event times, at most the time the
 * record was sent). Returns the records deleted.
 */
export async function eraseDeletedSitesFromLog(db: pg.Pool): Promise<number> {
  const recent = await db.query<{ site_hash: Buffer }>(
    `SELECT d.site_hash FROM deleted_sites d
      WHERE d.deleted_at >= to_timestamp((
        SELECT min(x.ts) FROM bus_partitions p
        CROSS JOIN LATERAL (SELECT min(m.timestamp) AS ts FROM bus_messages m WHERE m.topic = p.topic AND m.partition = p.partition) x
      )::float8 / 1000) - make_interval(secs => $1::float8 / 1000)`,
    [IN_FLIGHT_MARGIN_MS],
  );
  if (recent.rows.length === 0) return 0;
  const r = await db.query(
    `DELETE FROM bus_messages m
      WHERE sha256(CASE WHEN position('\\x3a'::bytea IN m.key) > 0 THEN substring(m.key FROM 1 FOR position('\\x3a'::bytea IN m.key) - 1) ELSE m.key END) = ANY($1)`,
    [recent.rows.map((x) => x.site_hash)],
  );
  return r.rowCount ?? 0;
}

class EmbeddedProducer implements BusProducer {
  private readonly coalescer: SendCoalescer<{ topic: string; message: OutgoingMessage }, DeliveryReport>;

  constructor(private readonly bus: EmbeddedBus) {
    this.coalescer = new SendCoalescer((items) => this.flush(items));
  }

  send(topic: string, messages: OutgoingMessage[]): Promise<DeliveryReport[]> {
    if (messages.length === 0) return Promise.resolve([]);
    return this.coalescer.submit(messages.map((message) => ({ topic, message })));
  }

  private async flush(items: { topic: string; message: OutgoingMessage }[]): Promise<DeliveryReport[]> {
    const groups = new Map<string, { topic: string; partition: number; indexes: number[] }>();
    for (let i = 0; i < items.length; i++) {
      const { topic, message } = items[i]!;
      const partition = partitionFor(message.key, await this.bus.partitionCount(topic));
      const k = `${topic}\u0000${String(partition).padStart(5, '0')}`;
      const g = groups.get(k) ?? { topic, partition, indexes: [] };
      g.indexes.push(i);
      groups.set(k, g);
    }
    const reports: DeliveryReport[] = new Array<DeliveryReport>(items.length);
    await transaction(this.bus.pool, async (client) => {
      // Lock partition rows in one global order so concurrent producers never deadlock.
      for (const k of [...groups.keys()].sort()) {
        const g = groups.get(k)!;
        const n = g.indexes.length;
        const r = await client.query<{ base: string }>(
          `UPDATE bus_partitions SET next_offset = next_offset + $3 WHERE topic = $1 AND partition = $2
           RETURNING (next_offset - $3)::text AS base`,
          [g.topic, g.partition, n],
        );
        if (!r.rows[0]) throw new EddyError('unavailable', `Topic ${g.topic} partition ${g.partition} does not exist`);
        const base = BigInt(r.rows[0].base);
        const msgs = g.indexes.map((i) => items[i]!.message);
        await client.query(
          `INSERT INTO bus_messages (topic, partition, "offset", key, value, headers, timestamp)
           SELECT $1, $2, $3::bigint + x.ord - 1, x.k, x.v, x.h, x.t
           FROM unnest($4::bytea[], $5::bytea[], $6::jsonb[], $7::int8[]) WITH ORDINALITY AS x(k, v, h, t, ord)`,
          [
            g.topic,
            g.partition,
            base.toString(),
            msgs.map((m) => Buffer.from(m.key)),
            msgs.map((m) => (typeof m.value === 'string' ? Buffer.from(m.value) : m.value)),
            msgs.map((m) => (m.headers ? JSON.stringify(m.headers) : null)),
            msgs.map((m) => String(m.timestamp ?? Date.now())),
          ],
        );
        g.indexes.forEach((i, j) => {
          reports[i] = { topic: g.topic, partition: g.partition, offset: (base + BigInt(j)).toString() };
        });
      }
      for (const topic of new Set(items.map((i) => i.topic))) {
        await client.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, topic]);
      }
    });
    return reports;
  }
}

interface OwnedPartition {
  topic: string;
  partition: number;
  position: bigint;
}

class EmbeddedConsumer implements BusConsumer {
  private readonly memberId = randomUUID();
  private conn?: pg.Client;
  private readonly owned = new Map<string, OwnedPartition>();
  private readonly pendingSeeks = new Map<string, bigint>();
  private readonly staleBatches = new Set<string>();
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private crash!: (e: Error) => void;
  readonly crashed: Promise<Error>;
  private readonly sessionTimeoutMs: number;
  private lastRebalance = 0;

  constructor(
    private readonly bus: EmbeddedBus,
    private readonly options: ConsumerOptions,
  ) {
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.crashed = new Promise((resolve) => (this.crash = resolve));
  }

  async run(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    const conn = new pg.Client({ connectionString: this.bus.connectionString });
    conn.on('error', (e) => {
      if (!this.stopped) this.crash(e);
    });
    await conn.connect();
    await conn.query(`LISTEN ${NOTIFY_CHANNEL}`);
    conn.on('notification', (n) => {
      if (n.payload && this.options.topics.includes(n.payload)) this.wake?.();
    });
    this.conn = conn;
    await this.rebalance();
    this.loop = this.consume(handler).catch((e: unknown) => {
      if (!this.stopped) this.crash(e instanceof Error ? e : new Error(String(e)));
    });
  }

  private heartbeatEvery(): number {
    return Math.max(100, Math.floor(this.sessionTimeoutMs / 3));
  }

  private async consume(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    const max = this.options.maxBatchSize ?? 500;
    while (!this.stopped) {
      if (Date.now() - this.lastRebalance >= this.heartbeatEvery()) await this.rebalance();
      let delivered = false;
      for (const p of [...this.owned.values()]) {
        if (this.stopped) break;
        const key = tpKey(p.topic, p.partition);
        const r = await this.bus.pool.query<{
          offset: string;
          key: Buffer | null;
          value: Buffer | null;
          headers: Record<string, string> | null;
          timestamp: string;
        }>(
          // Order by the bigint column, not the text alias (which would sort "10" before "2").
          `SELECT m."offset"::text AS offset, m.key, m.value, m.headers, m.timestamp::text AS timestamp FROM bus_messages m
           WHERE m.topic = $1 AND m.partition = $2 AND m."offset" >= $3 ORDER BY m."offset" LIMIT $4`,
          [p.topic, p.partition, p.position.toString(), max],
        );
        if (r.rows.length === 0) continue;
        delivered = true;
        const messages: BusMessage[] = r.rows.map((m) => ({
          topic: p.topic,
          partition: p.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          timestamp: Number(m.timestamp),
          headers: m.headers ?? {},
        }));
        let resolved: bigint | null = null;
        this.staleBatches.delete(key);
        await handler({
          topic: p.topic,
          partition: p.partition,
          messages,
          resolveOffset: (offset) => {
            resolved = BigInt(offset);
          },
          commit: (nextOffset) => this.commit(p.topic, p.partition, nextOffset),
          heartbeat: async () => {
            if (Date.now() - this.lastRebalance >= this.heartbeatEvery()) await this.heartbeat();
          },
          isStale: () => this.staleBatches.has(key) || this.owned.get(key) !== p,
        });
        // Like kafkajs: unresolved messages are fetched again; a seek during the batch wins.
        if (!this.staleBatches.has(key) && this.owned.get(key) === p && resolved !== null)
          p.position = (resolved as bigint) + 1n;
      }
      if (!delivered && !this.stopped) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, FETCH_WAIT_MS);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private async heartbeat(): Promise<void> {
    await this.bus.pool.query(
      `INSERT INTO bus_group_members (group_id, member_id, heartbeat_at) VALUES ($1, $2, now())
       ON CONFLICT (group_id, member_id) DO UPDATE SET heartbeat_at = now()`,
      [this.options.groupId, this.memberId],
    );
    this.lastRebalance = Date.now();
  }

  /** Members agree on a round-robin split of partitions; the advisory lock makes ownership exclusive. */
  private async rebalance(): Promise<void> {
    const conn = this.conn!;
    const group = this.options.groupId;
    await this.heartbeat();
    await this.bus.pool.query(
      `DELETE FROM bus_group_members WHERE group_id = $1 AND heartbeat_at < now() - make_interval(secs => $2::float8 / 1000)`,
      [group, this.sessionTimeoutMs],
    );
    const members = (
      await this.bus.pool.query<{ member_id: string }>(
        'SELECT member_id FROM bus_group_members WHERE group_id = $1 ORDER BY member_id',
        [group],
      )
    ).rows.map((r) => r.member_id);
    const me = Math.max(0, members.indexOf(this.memberId));
    const all = (
      await this.bus.pool.query<{ topic: string; partition: number }>(
        'SELECT topic, partition FROM bus_partitions WHERE topic = ANY($1) ORDER BY topic, partition',
        [this.options.topics],
      )
    ).rows;
    const desired = new Set(
      all.filter((_, i) => i % Math.max(1, members.length) === me).map((tp) => tpKey(tp.topic, tp.partition)),
    );
    let changed = false;
    for (const [key, p] of this.owned) {
      if (desired.has(key)) continue;
      await conn.query('SELECT pg_advisory_unlock(hashtext($1), $2)', [`${group}/${p.topic}`, p.partition]);
      this.owned.delete(key);
      changed = true;
    }
    for (const tp of all) {
      const key = tpKey(tp.topic, tp.partition);
      if (!desired.has(key) || this.owned.has(key)) continue;
      const got = await conn.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), $2) AS ok', [
        `${group}/${tp.topic}`,
        tp.partition,
      ]);
      if (!got.rows[0]?.ok) continue; // its previous owner has not let go yet; try next round
      this.owned.set(key, { ...tp, position: await this.startPosition(tp) });
      changed = true;
    }
    if (changed) await this.options.onAssigned?.(this.assignment());
  }

  private async startPosition(tp: TopicPartition): Promise<bigint> {
    const key = tpKey(tp.topic, tp.partition);
    const seek = this.pendingSeeks.get(key);
    if (seek !== undefined) {
      this.pendingSeeks.delete(key);
      return seek;
    }
    const c = await this.bus.pool.query<{ offset: string }>(
      'SELECT "offset"::text AS offset FROM bus_group_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3',
      [this.options.groupId, tp.topic, tp.partition],
    );
    if (c.rows[0]) return BigInt(c.rows[0].offset);
    return this.bus.resolveSeek(tp.topic, tp.partition, this.options.fromBeginning ? 'earliest' : 'latest');
  }

  private async commit(topic: string, partition: number, nextOffset: string): Promise<void> {
    await this.bus.pool.query(
      `INSERT INTO bus_group_offsets (group_id, topic, partition, "offset", updated_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET "offset" = EXCLUDED."offset", updated_at = now()`,
      [this.options.groupId, topic, partition, nextOffset],
    );
  }

  async seek(topic: string, partition: number, target: SeekTarget): Promise<void> {
    const offset = await this.bus.resolveSeek(topic, partition, target);
    const key = tpKey(topic, partition);
    const p = this.owned.get(key);
    if (p) {
      p.position = offset;
      this.staleBatches.add(key);
    } else {
      this.pendingSeeks.set(key, offset);
    }
  }

  assignment(): TopicPartition[] {
    return [...this.owned.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.bus.pool
      .query('DELETE FROM bus_group_members WHERE group_id = $1 AND member_id = $2', [
        this.options.groupId,
        this.memberId,
      ])
      .catch(() => undefined);
    // Closing the connection releases every advisory lock this member held.
    await this.conn?.end().catch(() => undefined);
    this.owned.clear();
  }
}

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
