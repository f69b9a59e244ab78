import { env } from '../env';
import { databaseUrl, pool } from '../db/client';
import { EmbeddedBus } from './embedded';
import { KafkaBus } from './kafka';
import type { Bus, Publisher } from './types';

export type * from './types';
export { partitionFor } from './partitioner';

/** Topics of the pipeline, under BUS_NAMESPACE. `events` is keyed by site and visitor so one visitor's events stay in order. */
/** A publisher that drops everything: replays and imports recompute state nobody is watching live. */
export const silentPublisher: Publisher = { producer: () => ({ send: async () => [] }) };

export const topics = {
  get events(): string {
    return `${env().BUS_NAMESPACE}events`;
  },
  get live(): string {
    return `${env().BUS_NAMESPACE}live`;
  },
  /** Events that arrived after their windows were gone: kept for audit and reconciliation. */
  get late(): string {
    return `${env().BUS_NAMESPACE}late`;
  },
};

/** A consumer-group id under BUS_NAMESPACE. */
export function groupId(name: string): string {
  return `${env().BUS_NAMESPACE}${name}`;
}

let shared: Bus | undefined;

/** The process's bus: Kafka when KAFKA_BROKERS is set, otherwise the embedded log in PostgreSQL. */
export function bus(): Bus {
  shared ??= createBus();
  return shared;
}

export function createBus(): Bus {
  const brokers = env().KAFKA_BROKERS;
  return brokers ? new KafkaBus(brokers) : new EmbeddedBus(pool(), databaseUrl());
}

export async function ensureTopics(b: Bus = bus()): Promise<void> {
  await b.createTopics([
    { name: topics.events, partitions: env().EVENTS_PARTITIONS },
    { name: topics.live, partitions: 1 },
    { name: topics.late, partitions: 1 },
  ]);
}

export async function closeBus(): Promise<void> {
  const b = shared;
  shared = undefined;
  await b?.close();
}
