/**
 * A condition on `granularity` and `bucket` with its parameters, numbered from where the caller
 * placed them (segmentPredicate in lib/analytics/rollup-engine.ts builds it from a period's cover).
 */
export interface BucketPredicate {
  sql: string;
  params: (string | Date)[];
}
