import type { BusMessage } from '@/lib/bus';

// What became of each record, as data (PostHog's ingestion does the same): a step says `ok`,
// `drop` or `dead-letter` for every record it is given, and the runtime — not the step — books
// the outcome: dead letters into dead_letters (and the ledger), duplicates into the ledger, and
// only the `ok` records reach the job's apply. A record never ends in an exception that stops
// the partition; an exception is the world's fault (the batch is retried) or is turned into a
// dead letter when the record is applied alone (isolate.ts).

export type DropReason = 'duplicate' | 'deleted-site';

export type Outcome<T> =
  | { kind: 'ok'; record: T }
  | { kind: 'drop'; reason: DropReason; siteId?: string }
  | { kind: 'dead-letter'; reason: string; siteId?: string };

export const ok = <T>(record: T): Outcome<T> => ({ kind: 'ok', record });
export const drop = (reason: DropReason, siteId?: string): Outcome<never> => ({ kind: 'drop', reason, siteId });
export const deadLetter = (reason: string, siteId?: string): Outcome<never> => ({
  kind: 'dead-letter',
  reason,
  siteId,
});

/** A record with what a step said about it. */
export interface Judged<T> {
  message: BusMessage;
  outcome: Outcome<T>;
}

export interface Dropped {
  message: BusMessage;
  reason: DropReason;
  siteId?: string;
}
