import { Kafka, logLevel } from 'kafkajs';
import { ChaosBroker } from './broker';
import { sleep } from './util';

// Reproduces the loss the long chaos run found under F4/F5 (docs/RELIABILITY.md, "What the faults
// found"): kafkajs' idempotent producer — as lib/bus/kafka.ts configures it (idempotent,
// maxInFlightRequests 1, acks -1) — rolls its sequence number back after ANY failed produce request
// (node_modules/kafkajs/src/producer/sendMessages.js, the catch around broker.produce), also when
// the broker did append the batch (the request timed out while the broker was frozen, or the
// connection died after the append). The next batch then reuses that sequence number: the broker
// takes it for a retry of the appended batch and answers "ok" with the old offset without writing
// it. With another record count it answers OUT_OF_ORDER_SEQUENCE_NUMBER instead — on every send,
// until the process restarts. For the collect endpoint: 202 for events that are never stored, or
// 503 forever. lib/bus/kafka.ts now replaces the producer after any failed send (KafkaProducer.
// retire); this script keeps using raw kafkajs to show the library's behaviour, and
// tests/integration/kafka-producer-faults.test.ts holds Eddy's bus to the fix.
//
//   DATABASE_URL=… npx tsx tests/chaos/repro-kafkajs-sequence.ts     (exit 1 = the loss reproduced)
//
// Request timeout and retries are shortened here only so the failure takes seconds, not minutes.

const broker = await ChaosBroker.start();
let lost = false;
try {
  const kafka = new Kafka({
    clientId: 'repro',
    brokers: [broker.brokers],
    logLevel: logLevel.NOTHING,
    requestTimeout: 1500,
    retry: { retries: 1, initialRetryTime: 100 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 't', numPartitions: 1, replicationFactor: 1 }] });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const acked = new Map<string, string>();
  const send = async (v: string) => {
    try {
      const r = await producer.send({ topic: 't', acks: -1, messages: [{ key: 'k', value: v }] });
      acked.set(v, r[0]!.baseOffset!);
      console.log(`send ${v}: acknowledged at offset ${r[0]!.baseOffset}`);
    } catch (e) {
      console.log(`send ${v}: failed (${(e as Error).message})`);
    }
  };
  await send('A');
  broker.pause(); // B's request reaches the frozen broker and times out on the client…
  await send('B');
  broker.resume(); // …but the broker appends it when it thaws.
  await sleep(1000);
  await send('C'); // same sequence number as B: "acknowledged", never written
  await send('D');
  const consumer = kafka.consumer({ groupId: `repro-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: 't', fromBeginning: true });
  const log = new Map<string, string>();
  await consumer.run({ eachMessage: async ({ message }) => void log.set(message.offset, String(message.value)) });
  await sleep(5000);
  await consumer.disconnect();
  await producer.disconnect();
  await admin.disconnect();
  console.log(`in the topic: ${[...log].map(([o, v]) => `${o}:${v}`).join(' ')}`);
  for (const [v, offset] of acked) {
    if (![...log.values()].includes(v)) {
      lost = true;
      console.log(`LOST: ${v} was acknowledged at offset ${offset}, which holds ${log.get(offset) ?? 'nothing'}`);
    }
  }
  if (!lost) console.log('not reproduced: every acknowledged record is in the topic');
} finally {
  await broker.stop();
}
process.exit(lost ? 1 : 0);
