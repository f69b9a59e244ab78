import type pg from 'pg';
import type { BusMessage } from '@/lib/bus';
import type { Json } from '@/lib/stream';
import type { Outcome } from './outcome';
import type { Ready, RecordStep } from './steps';

// What a consumer job is to the runtime (workers/runtime.ts): how to read a record, how to apply a
// batch inside the runtime's transaction, and how to put its in-memory state back to a checkpoint.

export interface JobBatchResult {
  /** Checkpoint state to store with the offsets (e.g. operator snapshots). */
  state?: Json;
  /** Runs after commit (live notices); failures are logged, never retried. */
  after?: () => Promise<void>;
}

export interface Job<T = unknown> {
  name: string;
  topic: string;
  /** The one job whose dead letters are booked in the ingestion ledger (others see the same records). */
  booksLedger?: boolean;
  /** `ok` with the record, or `dead-letter` with why it cannot be read (stored with its bytes). */
  decode(message: BusMessage): Outcome<T>;
  /** Run in order between decode and apply, in the batch's transaction (steps.ts): dedup, deleted sites. */
  steps?: RecordStep<T>[];
  /** The site a decoded record belongs to: a record that fails to apply is dead-lettered and booked against it. */
  siteOf?(record: T): string;
  /** Partition assigned: restore its state from the stored checkpoint (null = start fresh). */
  restore(partition: number, state: Json | null): void;
  /** Partition revoked: forget its in-memory state. */
  release(partition: number): void;
  /** Writes output inside `tx` for the records every step let through (never called directly: steps.ts `applyRecords`). */
  apply(tx: pg.PoolClient, partition: number, records: Ready<T>[]): Promise<JobBatchResult>;
  /**
   * Periodic, without new records (every TICK_MS): lets event time advance on a partition that
   * went quiet so its last windows close. Returns undefined when there was nothing to do.
   */
  tick?(tx: pg.PoolClient, partition: number, now: number): Promise<JobBatchResult | undefined>;
  /** End of input (replays): fire every window that holds state. */
  flush?(tx: pg.PoolClient, partition: number): Promise<JobBatchResult | undefined>;
}
