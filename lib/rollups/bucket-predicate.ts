/**
 * A condition on `granularity` and `bucket` with its parameters, numbered from where the caller
 * placed them (segmentPredicate in lib/analytics/rollup-engine.ts builds it from a period's cover;
 * importedDays adds the imported partition's number).
 */
export interface BucketPredicate {
  sql: string;
  params: (string | number | Date)[];
}
