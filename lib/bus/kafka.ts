import { Kafka, logLevel, type Admin, type Consumer, type Producer, type LogEntry } from 'kafkajs';
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
import { MINUTE } from '@/lib/time';

// kafkajs behind Eddy's bus contract. kafkajs is in maintenance mode, so nothing outside
// lib/bus imports it. Choices that matter:
// - one idempotent producer per process, acks=-1, concurrent sends coalesced into one sendBatch;
//   after any failed send the producer is replaced by a new one (new producer id), see
//   KafkaProducer.flush — kafkajs' idempotence is only sound while every request succeeds;
// - consumers with a 100 ms fetch wait (the 5 s default would dominate end-to-end latency),
//   eachBatchAutoResolve=false and autoCommit=false: offsets move only when the job says so.

const kafkaLog = (level: number) => {
  const name = ['NOTHING', 'ERROR', 'WARN', 'INFO', 'DEBUG'][level] ?? 'LOG';
  return ({ namespace, log }: LogEntry) => {
    // Rebalances and broker restarts are routine; the job decides what is an error.
    // kafkajs puts the broker's error text beside the message; its LogEntry type does not declare it.
    const error: unknown = 'error' in log ? log.error : undefined;
    const detail = typeof error === 'string' ? ` — ${error}` : '';
    if (level <= logLevel.WARN) console.error(`[kafka ${name}] ${namespace}: ${log.message}${detail}`);
  };
};

export interface KafkaBusOptions {
  /** How long one request may wait for the broker (kafkajs default 30 s). */
  requestTimeoutMs?: number;
  /** Retries of a failed request before the call fails (default 8). */
  retries?: number;
}

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private adminClient?: Promise<Admin>;
  private theProducer?: KafkaProducer;
  private readonly consumers = new Set<KafkaConsumer>();
  private readonly partitionCounts = new Map<string, number>();

  constructor(brokers: string[], clientId = 'eddy', options: KafkaBusOptions = {}) {
    this.kafka = new Kafka({
      clientId,
      brokers,
      logLevel: logLevel.ERROR,
      logCreator: kafkaLog,
      connectionTimeout: 3000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      retry: { initialRetryTime: 100, retries: options.retries ?? 8 },
    });
  }

  private admin(): Promise<Admin> {
    this.adminClient ??= (async () => {
      const a = this.kafka.admin();
      await a.connect();
      return a;
    })().catch((e: unknown) => {
      this.adminClient = undefined; // retry the connection next time instead of caching the failure
      throw e;
    });
    return this.adminClient;
  }

  async partitionCount(topic: string): Promise<number> {
    const known = this.partitionCounts.get(topic);
    if (known) return known;
    const meta = await (await this.admin()).fetchTopicMetadata({ topics: [topic] });
    const count = meta.topics[0]?.partitions.length ?? 0;
    if (!count) throw new EddyError('unavailable', `Topic ${topic} does not exist`);
    this.partitionCounts.set(topic, count);
    return count;
  }

  async createTopics(topics: { name: string; partitions: number }[]): Promise<void> {
    const admin = await this.admin();
    const before = new Set(await admin.listTopics());
    let existing = before;
    // A broker that has just started can answer "does not host this topic-partition" while
    // waiting for the new topic's leaders; the topic then exists, so look again and retry.
    for (let attempt = 1; ; attempt++) {
      const missing = topics.filter((t) => !existing.has(t.name));
      if (missing.length === 0) break;
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: -1 })),
        });
        break;
      } catch (e) {
        if ((e as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || attempt >= 10) throw e;
        await new Promise((r) => setTimeout(r, 300));
        existing = new Set(await admin.listTopics());
      }
    }
    // waitForLeaders reads the leaders from metadata, which a KRaft broker publishes before its
    // partitions take leadership: a ListOffsets right after could answer "not the leader" (seen on
    // Kafka 4.4 on a loaded machine). A created topic is ready when its offsets can be read.
    for (const t of topics.filter((t) => !before.has(t.name))) {
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.fetchTopicOffsets(t.name);
          break;
        } catch (e) {
          if (!(e as { retriable?: boolean }).retriable || attempt >= 50) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
    const present = topics.filter((t) => before.has(t.name));
    if (present.length) {
      const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
      const grow = present.filter(
        (t) => (meta.topics.find((m) => m.name === t.name)?.partitions.length ?? 0) < t.partitions,
      );
      if (grow.length)
        await admin.createPartitions({ topicPartitions: grow.map((t) => ({ topic: t.name, count: t.partitions })) });
    }
    for (const t of topics) this.partitionCounts.delete(t.name);
  }

  producer(): BusProducer {
    this.theProducer ??= new KafkaProducer(
      () => this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }),
      this,
    );
    return this.theProducer;
  }

  consumer(options: ConsumerOptions): BusConsumer {
    const c = new KafkaConsumer(this.kafka, this, options);
    this.consumers.add(c);
    return c;
  }

  async resolveSeek(topic: string, partition: number, target: SeekTarget): Promise<string> {
    if (typeof target === 'string' && /^\d+$/.test(target)) return target;
    const admin = await this.admin();
    if (target === 'earliest' || target === 'latest') {
      const offsets = await admin.fetchTopicOffsets(topic);
      const p = offsets.find((o) => o.partition === partition);
      if (!p) throw new EddyError('bad_request', `No partition ${partition} in ${topic}`);
      return target === 'earliest' ? p.low : p.high;
    }
    if (typeof target === 'object') {
      const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, target.timestamp);
      const p = byTime.find((o) => o.partition === partition);
      // -1 means no message at or after the time: start at the end.
      if (!p || p.offset === '-1') return this.resolveSeek(topic, partition, 'latest');
      return p.offset;
    }
    throw new EddyError('bad_request', `Unknown seek target ${String(target)}`);
  }

  async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const offsets = await (await this.admin()).fetchTopicOffsets(topic);
    return offsets
      .map((o) => ({ partition: o.partition, low: o.low, high: o.high }))
      .sort((a, b) => a.partition - b.partition);
  }

  async firstStoredOffset(topic: string, partition: number, from: string): Promise<string | null> {
    const o = (await this.topicOffsets(topic)).find((x) => x.partition === partition);
    if (!o) throw new EddyError('bad_request', `No partition ${partition} in ${topic}`);
    // Kafka removes only whole segments from the start (no compaction, no transactions here):
    // between the low and high watermarks every offset is a record.
    const first = BigInt(from) < BigInt(o.low) ? o.low : from;
    return BigInt(first) < BigInt(o.high) ? first : null;
  }

  async committedOffsets(groupId: string, topic: string): Promise<{ partition: number; offset: string | null }[]> {
    const res = await (await this.admin()).fetchOffsets({ groupId, topics: [topic] });
    return (res[0]?.partitions ?? [])
      .map((p) => ({ partition: p.partition, offset: p.offset === '-1' ? null : p.offset }))
      .sort((a, b) => a.partition - b.partition);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.stop()));
    await this.theProducer?.close();
    if (this.adminClient) await (await this.adminClient).disconnect().catch(() => undefined);
  }
}

class KafkaProducer implements BusProducer {
  private producer: Producer;
  private connected?: Promise<void>;
  private readonly coalescer: SendCoalescer<{ topic: string; message: OutgoingMessage }, DeliveryReport>;

  constructor(
    private readonly create: () => Producer,
    private readonly bus: KafkaBus,
  ) {
    this.coalescer = new SendCoalescer((items) => this.flush(items));
    this.producer = this.fresh();
  }

  private fresh(): Producer {
    const p = this.create();
    p.on(p.events.DISCONNECT, () => {
      if (this.producer === p) this.connected = undefined;
    });
    return p;
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((e: unknown) => {
      this.connected = undefined;
      throw e;
    });
    return this.connected;
  }

  /**
   * Replaces the producer after a failed send. kafkajs rolls a partition's sequence number back
   * whenever a produce request fails — also when the broker did append the batch and only the
   * answer was lost (a timeout on a frozen broker, a connection cut after the append). The next
   * batch then reuses that sequence number: the broker takes it for a retry of the appended batch
   * and answers success with the old batch's offset without writing anything (an acknowledged
   * event lost), or, with another record count, OUT_OF_ORDER_SEQUENCE_NUMBER on every later send.
   * A new producer gets a new producer id, so its sequences start clean. Whatever the failed
   * request did write is a duplicate of an unacknowledged send, which the client retries with the
   * same event id and the jobs deduplicate. Reproduction: tests/chaos/repro-kafkajs-sequence.ts.
   */
  private retire(): void {
    const old = this.producer;
    const wasConnected = this.connected;
    this.producer = this.fresh();
    this.connected = undefined;
    if (wasConnected) void wasConnected.then(() => old.disconnect()).catch(() => undefined);
  }

  send(topic: string, messages: OutgoingMessage[]): Promise<DeliveryReport[]> {
    if (messages.length === 0) return Promise.resolve([]);
    return this.coalescer.submit(messages.map((message) => ({ topic, message })));
  }

  private async flush(items: { topic: string; message: OutgoingMessage }[]): Promise<DeliveryReport[]> {
    await this.connect();
    // Choose partitions ourselves so each message's offset is known: within one partition the
    // broker appends a batch in order starting at baseOffset.
    const placed: { topic: string; partition: number; indexInPartition: number }[] = [];
    const byTopic = new Map<
      string,
      { key: string; value: string | Buffer; partition: number; headers?: Record<string, string>; timestamp: string }[]
    >();
    const perPartitionCount = new Map<string, number>();
    for (const { topic, message } of items) {
      const partition = partitionFor(message.key, await this.bus.partitionCount(topic));
      const pk = `${topic}\u0000${partition}`;
      const idx = perPartitionCount.get(pk) ?? 0;
      perPartitionCount.set(pk, idx + 1);
      placed.push({ topic, partition, indexInPartition: idx });
      const list = byTopic.get(topic) ?? [];
      list.push({
        key: message.key,
        value: message.value,
        partition,
        headers: message.headers,
        timestamp: String(message.timestamp ?? Date.now()),
      });
      byTopic.set(topic, list);
    }
    let meta: Awaited<ReturnType<Producer['sendBatch']>>;
    try {
      meta = await this.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (e) {
      this.retire();
      throw e;
    }
    const base = new Map(meta.map((m) => [`${m.topicName}\u0000${m.partition}`, BigInt(m.baseOffset ?? '0')]));
    return placed.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      offset: String((base.get(`${p.topic}\u0000${p.partition}`) ?? 0n) + BigInt(p.indexInPartition)),
    }));
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
    this.connected = undefined;
  }
}

class KafkaConsumer implements BusConsumer {
  private readonly consumer: Consumer;
  private assigned: TopicPartition[] = [];
  private assignmentReady: Promise<void> = Promise.resolve();
  private crash!: (e: Error) => void;
  private readonly heartbeatIntervalMs: number;
  readonly crashed: Promise<Error>;
  private stopped = false;

  constructor(
    kafka: Kafka,
    private readonly bus: KafkaBus,
    private readonly options: ConsumerOptions,
  ) {
    const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
    this.heartbeatIntervalMs = Math.max(100, Math.min(3000, Math.floor(sessionTimeout / 3)));
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      maxWaitTimeInMs: 100,
      sessionTimeout,
      heartbeatInterval: this.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(sessionTimeout, 10_000),
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 100, retries: 10 },
    });
    this.crashed = new Promise((resolve) => (this.crash = resolve));
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      // With restart=false kafkajs stops silently; surface it so the process can exit.
      if (!payload.restart && !this.stopped) this.crash(payload.error);
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) =>
        partitions.map((partition) => ({ topic, partition })),
      );
      const assigned = this.assigned;
      this.assignmentReady = Promise.resolve(this.options.onAssigned?.(assigned)).catch((e: unknown) => {
        this.crash(e instanceof Error ? e : new Error(String(e)));
      });
    });
  }

  async run(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? false });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
        // kafkajs heartbeats only between batches (or when asked). A batch that waits — on a row
        // lock a frozen zombie holds, on a slow database — would let this member's session expire
        // and get it expelled mid-batch, which is how one zombie used to take healthy workers down
        // with it (docs/RELIABILITY.md finding 6). So heartbeat in the background while the batch
        // runs (kafkajs skips a beat sent sooner than one interval after the last, hence half
        // intervals), but only for maxBatchMs, like the Java client's max.poll.interval.ms: a batch
        // stuck for longer goes silent, the group expels the member and reassigns its partitions.
        const started = Date.now();
        const maxBatchMs = this.options.maxBatchMs ?? MINUTE;
        const beating = setInterval(
          () => {
            if (Date.now() - started < maxBatchMs) return void heartbeat().catch(() => undefined);
            clearInterval(beating);
            console.error(
              `[kafka] batch of ${batch.topic}/${batch.partition} still running after ${maxBatchMs} ms: heartbeats stop so the group can reassign its partitions`,
            );
          },
          Math.max(50, Math.floor(this.heartbeatIntervalMs / 2)),
        );
        try {
          // Positions restored by onAssigned must apply before the first batch of the partition.
          await this.assignmentReady;
          if (isStale() || batch.messages.length === 0) return;
          const messages: BusMessage[] = batch.messages.map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key ?? null,
            value: m.value ?? null,
            timestamp: Number(m.timestamp),
            headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
          }));
          await handler({
            topic: batch.topic,
            partition: batch.partition,
            messages,
            resolveOffset,
            heartbeat,
            isStale,
            commit: (nextOffset) =>
              this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset }]),
          });
        } finally {
          clearInterval(beating);
        }
      },
    });
  }

  async seek(topic: string, partition: number, target: SeekTarget): Promise<void> {
    const offset = await this.bus.resolveSeek(topic, partition, target);
    this.consumer.seek({ topic, partition, offset });
  }

  assignment(): TopicPartition[] {
    return this.assigned;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer.disconnect().catch(() => undefined);
  }
}
