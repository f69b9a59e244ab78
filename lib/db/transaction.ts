import type pg from 'pg';

// The one BEGIN/COMMIT helper. Four hand-rolled copies (embedded bus, savepoint ×2, replay) once
// missed what this one learnt: a terminated backend between two queries surfaces as an 'error'
// event on the client, which crashes the process unless someone listens.

export interface TransactionOptions {
  /** Default: the database's (READ COMMITTED). */
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  readOnly?: boolean;
}

/**
 * Listens for the loss of a checked-out connection: a backend terminated while the client is out
 * of the pool emits 'error' on it, which crashes the process unless someone listens (the pool
 * only listens to idle clients). The failing query rejects anyway. `release()` gives the client
 * back — destroyed if it was lost — and a lost client keeps a listener for good: it can emit
 * again (its socket closing) after the pool has dropped it, when nobody else listens.
 */
export function listenForLoss(client: pg.PoolClient, what: string): { release(): void } {
  let lost: Error | undefined;
  const onError = (e: Error) => {
    if (!lost) console.error(`[db] connection lost ${what}: ${e.message}`);
    lost ??= e;
  };
  client.on('error', onError);
  return {
    release() {
      if (!lost) client.off('error', onError);
      client.release(lost);
    },
  };
}

/** Runs `fn` in one transaction on a pooled connection; rolls back on any error. */
export async function transaction<T>(
  p: pg.Pool,
  fn: (c: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await p.connect();
  const guard = listenForLoss(client, 'in a transaction');
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
    guard.release();
  }
}
