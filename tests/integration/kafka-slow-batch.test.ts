import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '@/lib/bus/kafka';
import type { BusConsumer, TopicPartition } from '@/lib/bus/types';
import { kafkaBrokers } from '../helpers/kafka';
import { eventually } from '../helpers/wait';

// Group membership while a batch is slow, on real Kafka. kafkajs heartbeats only between
// batches, so the bus heartbeats in the background while a batch runs (a worker waiting on a
// frozen zombie's row lock used to be expelled and crash: docs/RELIABILITY.md finding 6) — but
// only up to maxBatchMs, so a batch that is truly stuck still lets the group move its partitions.

let bus: KafkaBus;
const consumers: BusConsumer[] = [];
const releases: (() => void)[] = [];

beforeAll(() => {
  bus = new KafkaBus(kafkaBrokers(), `slow-batch-${randomUUID().slice(0, 8)}`);
});
afterAll(async () => {
  for (const r of releases) r();
  await Promise.all(consumers.map((c) => c.stop()));
  await bus.close();
}, 60_000);

async function topicWithMessages(partitions: number): Promise<string> {
  const topic = `slow-${randomUUID().slice(0, 8)}`;
  await bus.createTopics([{ name: topic, partitions }]);
  // Enough distinct keys that every partition gets messages.
  await bus.producer().send(
    topic,
    Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
  );
  return topic;
}

const SESSION_MS = 6000;

describe('kafka consumer with a slow batch', () => {
  it('a batch that takes longer than the session timeout keeps its member in the group', async () => {
    const topic = await topicWithMessages(1);
    const assignments: TopicPartition[][] = [];
    let commitError: unknown = 'not committed yet';
    let batches = 0;
    const c = bus.consumer({
      groupId: `g-${topic}`,
      topics: [topic],
      fromBeginning: true,
      sessionTimeoutMs: SESSION_MS,
      onAssigned: (a) => void assignments.push(a),
    });
    consumers.push(c);
    await c.run(async (batch) => {
      if (batches++ > 0) return;
      await new Promise((r) => setTimeout(r, 2.5 * SESSION_MS)); // e.g. waiting for a row lock
      batch.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
      commitError = await batch.commit(String(BigInt(batch.messages[batch.messages.length - 1]!.offset) + 1n)).then(
        () => null,
        (e: unknown) => e,
      );
    });
    await eventually(() => commitError !== 'not committed yet', 4 * SESSION_MS, 'the slow batch to finish');
    // Without the background heartbeat the session expires mid-batch: the commit fails with
    // "The coordinator is not aware of this member" and the consumer has to join again.
    expect(commitError).toBeNull();
    expect(assignments).toHaveLength(1);
  }, 60_000);

  it('a batch stuck past maxBatchMs stops heartbeating, so the group reassigns its partition', async () => {
    const topic = `slow-${randomUUID().slice(0, 8)}`;
    await bus.createTopics([{ name: topic, partitions: 2 }]);
    const groupId = `g-${topic}`;
    const owned = { a: [] as number[], b: [] as number[] };
    const seenByB = new Set<number>();
    let stuckOn: number | undefined;
    const a = bus.consumer({
      groupId,
      topics: [topic],
      fromBeginning: true,
      sessionTimeoutMs: SESSION_MS,
      maxBatchMs: 3000,
      onAssigned: (x) => void (owned.a = x.map((p) => p.partition)),
    });
    const b = bus.consumer({
      groupId,
      topics: [topic],
      fromBeginning: true,
      sessionTimeoutMs: SESSION_MS,
      onAssigned: (x) => void (owned.b = x.map((p) => p.partition)),
    });
    consumers.push(a, b);
    await a.run(async (batch) => {
      stuckOn ??= batch.partition;
      if (batch.partition === stuckOn) await new Promise<void>((r) => releases.push(r)); // never returns on its own
    });
    await b.run(async (batch) => {
      seenByB.add(batch.partition);
      batch.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    });
    // A stable group first, one partition each — so no rebalance is pending when A gets stuck
    // (a pending rebalance would drop A after the rebalance timeout anyway).
    await eventually(() => owned.a.length === 1 && owned.b.length === 1, 40_000, 'A and B owning one partition each');
    await bus.producer().send(
      topic,
      Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    );
    await eventually(() => stuckOn !== undefined, 20_000, 'A to start a batch');
    expect(stuckOn).toBe(owned.a[0]);
    // Once A has been silent for maxBatchMs + the session timeout, the group expels it and B takes
    // the stuck partition too. With heartbeats that never stop, A would hold it for as long as its
    // batch hangs.
    await eventually(() => seenByB.has(stuckOn!), 45_000, `B to take over partition ${stuckOn} from the stuck member`);
  }, 120_000);
});
