// Which apply failures are the record's fault and which are the world's.
//
// A transient failure (connection lost, serialization failure, deadlock, the server shutting
// down or out of resources) says nothing about the records: the batch is retried as a whole, and
// the bus bounds the retries (kafkajs restarts the consumer, then the supervisor the process).
// A deterministic failure (a value PostgreSQL refuses, a constraint, a program limit such as an
// index row too large, or an exception thrown by the job's own code on a record) would fail the
// same way on every retry: retrying it is the crash loop that stops every site on the partition.
// Those batches are re-applied one record at a time and the records that fail alone go to the
// dead-letter store (runtime.ts).

/** SQLSTATE classes that describe the data, not the connection (PostgreSQL, Appendix A). */
const DATA_CLASSES = new Set([
  '22', // data exception: invalid byte sequence, invalid text representation, numeric out of range, untranslatable character …
  '23', // integrity constraint violation
  '54', // program limit exceeded: index row size, too many columns, statement too complex
]);

const TRANSIENT_MESSAGE =
  /Connection terminated|connection error|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|timeout exceeded when trying to connect|Client was closed|Cannot use a pool after calling end/i;

export type FailureKind = 'transient' | 'deterministic';

export function classifyFailure(e: unknown): FailureKind {
  const code = typeof e === 'object' && e !== null && 'code' in e ? (e as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    // Any other SQLSTATE (08 connection, 40 rollback, 53 resources, 55 lock, 57 shutdown, 42 a
    // schema the code does not match, XX internal) is not the record's fault.
    return DATA_CLASSES.has(code.slice(0, 2)) ? 'deterministic' : 'transient';
  }
  if (typeof code === 'string') return 'transient'; // Node system errors: ECONNRESET, EPIPE, …
  const message = e instanceof Error ? e.message : String(e);
  if (TRANSIENT_MESSAGE.test(message)) return 'transient';
  // A TypeError or RangeError from the job's code on a value it did not expect.
  return 'deterministic';
}
