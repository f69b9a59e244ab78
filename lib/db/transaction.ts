import type pg from 'pg';

// The one BEGIN/COMMIT helper. Four hand-rolled copies (embedded bus, savepoint ×2, replay) once
// missed what this one learnt: a terminated backend between two queries surfaces as an 'error'
// event on the client, which crashes the process unless someone listens.

export interface TransactionOptions {
  /** Default: the database's (READ COMMITTED). */
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  readOnly?: boolean;
}

/** Runs `fn` in one transaction on a pooled connection; rolls back on any error. */
export async function transaction<T>(
  p: pg.Pool,
  fn: (c: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await p.connect();
  // The failing query rejects anyway, so the listener only keeps the process alive.
  const onError = (e: Error) => console.error(`[db] connection lost in a transaction: ${e.message}`);
  client.on('error', onError);
  try {
    await client.query(
      `BEGIN${options.isolation ? ` ISOLATION LEVEL ${options.isolation.toUpperCase()}` : ''}${options.readOnly ? ' READ ONLY' : ''}`,
    );
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.off('error', onError);
    client.release();
  }
}
