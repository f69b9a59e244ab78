// The event bus contract. Two implementations honour it: Kafka (kafkajs) for scale, and an
// embedded log in PostgreSQL for the zero-config single-machine mode. tests/integration/bus.contract
// runs one suite against both.

export interface OutgoingMessage {
  /** Partitioning key: all messages with one key land on one partition, in order. */
  key: string;
  value: string | Buffer;
  headers?: Record<string, string>;
  /** Milliseconds since epoch; defaults to the time of sending. */
  timestamp?: number;
}

export interface DeliveryReport {
  topic: string;
  partition: number;
  /** Offsets are decimal strings (they are 64-bit), as in kafkajs. */
  offset: string;
}

export interface BusMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Record<string, string>;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PartitionOffsets {
  partition: number;
  /** First offset still stored. */
  low: string;
  /** Offset the next produced message will get (Kafka's high watermark). */
  high: string;
}

/** Where to read from: an exact offset, the ends of the log, or the first message at/after a time. */
export type SeekTarget = string | 'earliest' | 'latest' | { timestamp: number };

export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: BusMessage[];
  /** Marks messages up to and including `offset` as processed: the next fetch starts after it.
   *  Unresolved messages are delivered again. */
  resolveOffset(offset: string): void;
  /** Durably stores the group's position (the next offset to read) for this partition. */
  commit(nextOffset: string): Promise<void>;
  heartbeat(): Promise<void>;
  /** True when the partition was revoked or seeked while this batch was being handled. */
  isStale(): boolean;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** With no committed position: read from the start (true) or only new messages (false, default). */
  fromBeginning?: boolean;
  /** A member silent for longer than this loses its partitions. */
  sessionTimeoutMs?: number;
  maxBatchSize?: number;
  /**
   * How long a batch still being handled keeps its member in the group (default 60 s, like Kafka's
   * max.poll.interval.ms); a batch stuck for longer lets the group reassign its partitions.
   */
  maxBatchMs?: number;
  /**
   * How many partitions' batches the handler may be given at once (default 1). Batches of one
   * partition always come one after another; only different partitions overlap.
   */
  partitionsConcurrently?: number;
  /** Called with the complete new assignment, before any batch of a newly assigned partition. */
  onAssigned?: (assigned: TopicPartition[]) => Promise<void> | void;
}

export interface BusConsumer {
  run(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void>;
  seek(topic: string, partition: number, target: SeekTarget): Promise<void>;
  assignment(): TopicPartition[];
  /** Settles if the consumer stops by itself on an unrecoverable error: exit and let a supervisor restart. */
  readonly crashed: Promise<Error>;
  stop(): Promise<void>;
}

export interface BusProducer {
  /** Resolves only once every message is durably stored (Kafka: acks=all). */
  send(topic: string, messages: OutgoingMessage[]): Promise<DeliveryReport[]>;
}

/** What a job needs of the bus: to publish (live notices, late records), never to consume. */
export type Publisher = Pick<Bus, 'producer'>;

export interface Bus {
  readonly kind: 'kafka' | 'embedded';
  createTopics(topics: { name: string; partitions: number }[]): Promise<void>;
  /** The process's one long-lived producer. */
  producer(): BusProducer;
  consumer(options: ConsumerOptions): BusConsumer;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /**
   * The first offset at or after `from` that the log still holds, or null if none yet. Above
   * `from` when records were removed: a retention trim (Kafka and the embedded log) or a deleted
   * site's records (the embedded log erases them in place, so its offsets can have holes).
   */
  firstStoredOffset(topic: string, partition: number, from: string): Promise<string | null>;
  committedOffsets(groupId: string, topic: string): Promise<{ partition: number; offset: string | null }[]>;
  close(): Promise<void>;
}
