import type pg from 'pg';
import { partitionFor, type BusMessage } from '@/lib/bus';
import { transaction } from '@/lib/db/transaction';
import { eventKey, type EventRecord } from '@/lib/events/record';
import type { Job } from '@/workers/runtime';
import { applyRecords } from '@/workers/consumer/steps';

// Records through the real stream jobs without a bus, as their consumers would apply them: split
// by source partition (a visitor's records stay on one), in order, in batches, each batch in its
// own transaction with its after-commit hook, then a flush per partition (watermark to infinity).

export async function applyThroughJobs(
  pool: pg.Pool,
  jobs: Job<EventRecord>[],
  records: EventRecord[],
  options: { partitions: number; batch?: number },
): Promise<void> {
  for (const j of jobs) for (let p = 0; p < options.partitions; p++) j.restore(p, null);
  const byPartition = new Map<number, { message: BusMessage; record: EventRecord }[]>();
  let offset = 0;
  for (const record of records) {
    const partition = partitionFor(eventKey(record), options.partitions);
    const list = byPartition.get(partition) ?? [];
    list.push({
      message: {
        topic: 'events',
        partition,
        offset: String(offset++),
        key: null,
        value: null,
        timestamp: record.ts,
        headers: {},
      },
      record,
    });
    byPartition.set(partition, list);
  }
  const size = options.batch ?? Number.POSITIVE_INFINITY;
  for (const [partition, list] of byPartition) {
    for (let i = 0; i < list.length; i += size) {
      const chunk = list.slice(i, i + size);
      for (const j of jobs) {
        const { result: r } = await transaction(pool, (tx) => applyRecords(j, tx, partition, chunk));
        await r.after?.();
      }
    }
    for (const j of jobs) {
      const r = await transaction(pool, async (tx) => j.flush?.(tx, partition));
      await r?.after?.();
    }
  }
}
