import type pg from 'pg';

// Which worker process owns which partition, for the pipeline page only: nothing reads it to decide
// anything, so a failed write is logged and the assignment goes on (a terminated backend must not
// cost a rebalance). Writes are chained, so the final delete on stop comes after any assignment
// still being recorded.

export function partitionOwnership(p: pg.Pool, job: string, topic: string, workerId: string | undefined) {
  let chain: Promise<void> = Promise.resolve();
  let stopping = false;
  const write = async (partitions: number[]) => {
    if (!workerId || (stopping && partitions.length > 0)) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await p.query(
          'DELETE FROM partition_owners WHERE job = $1 AND topic = $2 AND worker_id = $3 AND NOT (partition = ANY($4::int[]))',
          [job, topic, workerId, partitions],
        );
        if (partitions.length === 0) return;
        await p.query(
          `INSERT INTO partition_owners (job, topic, partition, worker_id, assigned_at) SELECT $1, $2, unnest($4::int[]), $3, now()
           ON CONFLICT (job, topic, partition) DO UPDATE SET worker_id = EXCLUDED.worker_id, assigned_at = EXCLUDED.assigned_at`,
          [job, topic, workerId, [...partitions].sort((x, y) => x - y)],
        );
        return;
      } catch (e) {
        // Two members recording a rebalance at once can deadlock on these rows: one retry settles it.
        if ((e as { code?: string }).code === '40P01' && attempt === 1) continue;
        console.error(`[${job}] could not record partition ownership: ${(e as Error).message}`);
        return;
      }
    }
  };
  return {
    /** Records the partitions this process now owns (and forgets the rest). */
    record: (partitions: number[]) => (chain = chain.then(() => write(partitions))),
    /** From now on only the final "owns nothing" is written. */
    stopping: () => {
      stopping = true;
    },
  };
}
