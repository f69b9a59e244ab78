import { kafkaBrokers } from '../../helpers/kafka';

/**
 * The settings of a `rollups sessions` worker process in the worker-process tests (jobs-crash,
 * jobs-scale): their own database and bus namespace, the events topic's 3 partitions, and an hour
 * of allowed lateness, since their traffic spans the last ~12 minutes and arrives up to 20 s out
 * of order (late firings, never "too late").
 */
export function pipelineWorkerEnv(databaseUrl: string, namespace: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: kafkaBrokers().join(','),
    BUS_NAMESPACE: namespace,
    EVENTS_PARTITIONS: '3',
    ALLOWED_LATENESS_MS: '3600000',
  };
}
