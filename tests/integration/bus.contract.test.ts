import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBus } from '@/lib/bus/embedded';
import { KafkaBus } from '@/lib/bus/kafka';
import { partitionFor } from '@/lib/bus/partitioner';
import type { Bus, BusConsumer, BusMessage, ConsumedBatch } from '@/lib/bus/types';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import { eventually } from '../helpers/wait';

// One contract, two implementations: everything a job relies on from the bus is pinned here
// and must hold for Kafka and for the embedded PostgreSQL log alike.

let database: TestDatabase;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  database = await freshDatabase('bus');
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await database.drop();
});

const implementations: [string, () => Bus][] = [
  ['kafka', () => new KafkaBus(kafkaBrokers(), `contract-${randomUUID().slice(0, 8)}`)],
  [
    'embedded',
    () => {
      const pool = new pg.Pool({ connectionString: database.url, max: 8 });
      pool.on('error', () => undefined); // connections die when the test database is dropped
      pools.push(pool);
      return new EmbeddedBus(pool, database.url);
    },
  ],
];

interface Collected {
  byPartition: Map<number, BusMessage[]>;
  all: BusMessage[];
}

/** Runs a consumer that resolves and commits everything it sees, collecting it. */
async function collecting(
  b: Bus,
  groupId: string,
  topic: string,
  opts: { commit?: boolean; fromBeginning?: boolean; sessionTimeoutMs?: number } = {},
) {
  const seen: Collected = { byPartition: new Map(), all: [] };
  const consumer = b.consumer({
    groupId,
    topics: [topic],
    fromBeginning: opts.fromBeginning ?? true,
    sessionTimeoutMs: opts.sessionTimeoutMs ?? 6000,
  });
  await consumer.run(async (batch: ConsumedBatch) => {
    for (const m of batch.messages) {
      seen.all.push(m);
      const list = seen.byPartition.get(m.partition) ?? [];
      list.push(m);
      seen.byPartition.set(m.partition, list);
    }
    const last = batch.messages[batch.messages.length - 1]!;
    batch.resolveOffset(last.offset);
    if (opts.commit !== false) await batch.commit(String(BigInt(last.offset) + 1n));
  });
  return { consumer, seen };
}

describe.each(implementations)('bus contract: %s', (_name, make) => {
  let b: Bus;
  const consumers: BusConsumer[] = [];
  beforeAll(() => {
    b = make();
  });
  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await b.close();
  });

  const newTopic = async (partitions = 3) => {
    const name = `t-${randomUUID().slice(0, 8)}`;
    await b.createTopics([{ name, partitions }]);
    return name;
  };

  it('creating a topic twice is harmless and reports offsets from zero', async () => {
    const topic = await newTopic(3);
    await b.createTopics([{ name: topic, partitions: 3 }]);
    expect(await b.topicOffsets(topic)).toEqual([0, 1, 2].map((partition) => ({ partition, low: '0', high: '0' })));
  });

  it('send resolves with the partition chosen by the key hash and consecutive offsets', async () => {
    const topic = await newTopic(3);
    const reports = await b.producer().send(
      topic,
      ['a', 'b', 'a', 'c', 'a'].map((key, i) => ({ key, value: `v${i}` })),
    );
    expect(reports.map((r) => r.partition)).toEqual(['a', 'b', 'a', 'c', 'a'].map((k) => partitionFor(k, 3)));
    // Within each partition, one send's messages get consecutive offsets in send order.
    for (const partition of new Set(reports.map((r) => r.partition))) {
      const offsets = reports.filter((r) => r.partition === partition).map((r) => Number(r.offset));
      expect(offsets).toEqual(offsets.map((_, i) => offsets[0]! + i));
    }
    const high = (await b.topicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    expect(high).toBe(5);
  });

  it('firstStoredOffset is the first offset at or after the one asked for, and null past the end', async () => {
    const topic = await newTopic(1);
    await b.producer().send(
      topic,
      ['a', 'b', 'c'].map((key) => ({ key, value: key })),
    );
    expect(await b.firstStoredOffset(topic, 0, '0')).toBe('0');
    expect(await b.firstStoredOffset(topic, 0, '2')).toBe('2');
    expect(await b.firstStoredOffset(topic, 0, '3')).toBeNull();
  });

  it('concurrent sends all resolve with distinct offsets (coalesced into few requests)', async () => {
    const topic = await newTopic(2);
    const reports = (
      await Promise.all(
        Array.from({ length: 300 }, (_, i) => b.producer().send(topic, [{ key: `k${i % 7}`, value: String(i) }])),
      )
    ).flat();
    const ids = new Set(reports.map((r) => `${r.partition}:${r.offset}`));
    expect(ids.size).toBe(300);
  });

  it('a consumer group receives every message once, in order within each partition, with key, value, headers and timestamp', async () => {
    const topic = await newTopic(3);
    const sent = Array.from({ length: 60 }, (_, i) => ({
      key: `visitor-${i % 9}`,
      value: JSON.stringify({ i }),
      headers: { 'event-id': `e${i}` },
      timestamp: 1_700_000_000_000 + i,
    }));
    await b.producer().send(topic, sent);
    const { consumer, seen } = await collecting(b, `g-${randomUUID()}`, topic);
    consumers.push(consumer);
    await eventually(() => seen.all.length >= 60, 30_000, 'all 60 messages consumed');
    expect(seen.all).toHaveLength(60);
    for (const msgs of seen.byPartition.values()) {
      const offsets = msgs.map((m) => Number(m.offset));
      expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
      const perKey = new Map<string, number[]>();
      for (const m of msgs)
        perKey.set(m.key!.toString(), [
          ...(perKey.get(m.key!.toString()) ?? []),
          (JSON.parse(m.value!.toString()) as { i: number }).i,
        ]);
      for (const seq of perKey.values()) expect(seq).toEqual([...seq].sort((x, y) => x - y));
    }
    const m = seen.all.find((x) => x.headers['event-id'] === 'e5')!;
    expect(m.key!.toString()).toBe('visitor-5');
    expect(m.timestamp).toBe(1_700_000_000_005);
    expect(m.partition).toBe(partitionFor('visitor-5', 3));
  });

  it('a new member of the group resumes from the committed position, not from the start', async () => {
    const topic = await newTopic(1);
    const group = `g-${randomUUID()}`;
    await b.producer().send(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: String(i) })),
    );
    const first = await collecting(b, group, topic);
    await eventually(() => first.seen.all.length >= 10, 30_000, 'first consumer read 10');
    await eventually(
      async () => (await b.committedOffsets(group, topic))[0]?.offset === '10',
      10_000,
      'offset 10 committed',
    );
    await first.consumer.stop();
    await b.producer().send(
      topic,
      Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: String(10 + i) })),
    );
    const second = await collecting(b, group, topic);
    consumers.push(second.consumer);
    await eventually(() => second.seen.all.length >= 5, 30_000, 'second consumer read the 5 new messages');
    await new Promise((r) => setTimeout(r, 500));
    expect(second.seen.all.map((m) => m.value!.toString())).toEqual(['10', '11', '12', '13', '14']);
  });

  it('messages that were not resolved are delivered again', async () => {
    const topic = await newTopic(1);
    await b.producer().send(
      topic,
      Array.from({ length: 4 }, (_, i) => ({ key: 'k', value: String(i) })),
    );
    const deliveries: string[] = [];
    const consumer = b.consumer({
      groupId: `g-${randomUUID()}`,
      topics: [topic],
      fromBeginning: true,
      sessionTimeoutMs: 6000,
    });
    consumers.push(consumer);
    let refusedOnce = false;
    await consumer.run(async (batch) => {
      deliveries.push(...batch.messages.map((m) => m.value!.toString()));
      if (!refusedOnce) {
        refusedOnce = true; // resolve nothing: the whole batch must come back
        return;
      }
      batch.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    });
    await eventually(() => deliveries.filter((d) => d === '3').length >= 2, 30_000, 'batch redelivered');
    expect(deliveries.slice(0, 4)).toEqual(['0', '1', '2', '3']);
    expect(deliveries.filter((d) => d === '0').length).toBe(2);
  });

  it('seek moves a partition to an exact offset, to a timestamp, to the earliest and to the latest message', async () => {
    const topic = await newTopic(1);
    await b.producer().send(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: String(i), timestamp: 1_000_000 + i * 1000 })),
    );
    const reads: string[] = [];
    const consumer = b.consumer({
      groupId: `g-${randomUUID()}`,
      topics: [topic],
      fromBeginning: false,
      sessionTimeoutMs: 6000,
      onAssigned: async (assigned) => {
        for (const tp of assigned) await consumer.seek(tp.topic, tp.partition, '7');
      },
    });
    consumers.push(consumer);
    await consumer.run(async (batch) => {
      if (batch.isStale()) return;
      reads.push(...batch.messages.map((m) => m.value!.toString()));
      batch.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    });
    await eventually(() => reads.length >= 3, 30_000, 'read from offset 7');
    expect(reads.slice(0, 3)).toEqual(['7', '8', '9']);
    reads.length = 0;
    await consumer.seek(topic, 0, { timestamp: 1_000_000 + 4500 });
    await eventually(() => reads.includes('9'), 30_000, 'read from timestamp');
    expect(reads[0]).toBe('5');
    reads.length = 0;
    await consumer.seek(topic, 0, 'earliest');
    await eventually(() => reads.includes('9'), 30_000, 'read from earliest');
    expect(reads[0]).toBe('0');
    reads.length = 0;
    await consumer.seek(topic, 0, 'latest');
    await b.producer().send(topic, [{ key: 'k', value: 'new' }]);
    await eventually(() => reads.includes('new'), 30_000, 'read after latest');
    expect(reads).toEqual(['new']);
  });

  it('two members of one group split the partitions; when one leaves the other takes over and nothing is lost', async () => {
    const topic = await newTopic(4);
    const group = `g-${randomUUID()}`;
    const one = await collecting(b, group, topic, { sessionTimeoutMs: 3000 });
    const two = await collecting(b, group, topic, { sessionTimeoutMs: 3000 });
    consumers.push(one.consumer, two.consumer);
    await eventually(
      () =>
        one.consumer.assignment().length > 0 &&
        two.consumer.assignment().length > 0 &&
        one.consumer.assignment().length + two.consumer.assignment().length === 4,
      40_000,
      'both members own partitions',
    );
    const mine = new Set(one.consumer.assignment().map((tp) => tp.partition));
    expect(two.consumer.assignment().every((tp) => !mine.has(tp.partition))).toBe(true);
    await b.producer().send(
      topic,
      Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: String(i) })),
    );
    await eventually(() => one.seen.all.length + two.seen.all.length >= 40, 30_000, 'first 40 consumed');
    await two.consumer.stop();
    await eventually(() => one.consumer.assignment().length === 4, 40_000, 'survivor owns all partitions');
    await b.producer().send(
      topic,
      Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: String(40 + i) })),
    );
    await eventually(
      () => new Set([...one.seen.all, ...two.seen.all].map((m) => m.value!.toString())).size >= 80,
      30_000,
      'all 80 consumed',
    );
    const values = new Set([...one.seen.all, ...two.seen.all].map((m) => m.value!.toString()));
    expect(values.size).toBe(80);
  });

  it('a new bus instance (a restarted process) sees everything that was acknowledged', async () => {
    const topic = await newTopic(2);
    await b.producer().send(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: String(i) })),
    );
    const fresh = make();
    try {
      const offsets = await fresh.topicOffsets(topic);
      expect(offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)).toBe(20);
      const { consumer, seen } = await collecting(fresh, `g-${randomUUID()}`, topic);
      await eventually(() => seen.all.length >= 20, 30_000, 'restarted reader sees 20');
      await consumer.stop();
    } finally {
      await fresh.close();
    }
  });
});
