import { env } from '@/lib/env';

export function kafkaBrokers(): string[] {
  const brokers = env().KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run tests through `npm test`, which starts Kafka');
  return brokers;
}
