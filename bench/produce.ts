// Benchmark of producing through the bus, run as `npm run bench -- produce [--messages 10000]
// [--in-flight 1000] [--no-embedded]`. The same messages (realistic event records keyed by site
// and visitor) go to one topic, side by side:
// - single: one-message send() awaited before the next (one broker round trip per event);
// - batched: one-message send() calls with `--in-flight` of them outstanding at a time, as
//   concurrent collect requests do; the producer coalesces them into few broker requests;
// - also shown: 64 in flight (the collect benchmark's concurrency) and arrays of 500 per send().
// Kafka (KafkaBus, real broker) is the headline; the embedded log (EmbeddedBus in PostgreSQL)
// is measured too unless --no-embedded. Each phase checks the topic grew by exactly its count.
// Human-readable lines first; the last line is one JSON object.

import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { EmbeddedBus } from '@/lib/bus/embedded';
import { KafkaBus } from '@/lib/bus/kafka';
import type { Bus, OutgoingMessage } from '@/lib/bus/types';
import { env } from '@/lib/env';
import { eventKey, type EventRecord } from '@/lib/events/record';
import { flag } from './support/args';
import { benchServices, freshBenchDatabase } from './support/services';
import { CHROME_USER_AGENTS, prng, SITE_HOST } from './support/traffic';

const MESSAGES = flag('messages', 10_000, { integer: true });
const IN_FLIGHT = flag('in-flight', 1000, { integer: true });
const EMBEDDED = !process.argv.includes('--no-embedded');
const PARTITIONS = env().EVENTS_PARTITIONS;

/** What the collect endpoint produces: enriched event records, JSON, keyed by site and visitor. */
function eventMessages(n: number, seed: number): OutgoingMessage[] {
  const random = prng(seed);
  const sites = Array.from({ length: 20 }, () => randomUUID());
  const paths = [
    '/',
    '/pricing',
    '/blog/kafka-for-web-analytics',
    '/docs/getting-started',
    '/products/espresso-grinder',
    '/checkout',
  ];
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const visitor = Math.floor(random() * 20_000);
    const path = paths[i % paths.length]!;
    const record: EventRecord = {
      v: 1,
      eventId: randomUUID(),
      siteId: sites[visitor % sites.length]!,
      visitorId: randomBytes(16).toString('hex'),
      name: 'pageview',
      url: `https://${SITE_HOST}${path}`,
      hostname: SITE_HOST,
      path,
      referrer: 'https://www.google.com/',
      referrerHost: 'google.com',
      channel: 'search',
      device: 'desktop',
      browser: 'Chrome',
      os: CHROME_USER_AGENTS[visitor % CHROME_USER_AGENTS.length]!.includes('Windows') ? 'Windows' : 'macOS',
      ts: now + i,
      receivedAt: now + i,
    };
    return { key: eventKey(record), value: JSON.stringify(record), timestamp: record.ts };
  });
}

async function onTopic(bus: Bus, topic: string): Promise<number> {
  // Right after a topic is created a broker may briefly answer "not the leader": ask again.
  for (let attempt = 1; ; attempt++) {
    try {
      return (await bus.topicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    } catch (e) {
      if (attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

type Phase = 'single' | 'batched' | 'in-flight-64' | 'arrays-500';

/** Sends every message; returns messages per second. */
async function runPhase(bus: Bus, topic: string, phase: Phase, messages: OutgoingMessage[]): Promise<number> {
  const producer = bus.producer();
  const before = await onTopic(bus, topic);
  const t0 = performance.now();
  if (phase === 'single') {
    for (const m of messages) await producer.send(topic, [m]);
  } else if (phase === 'arrays-500') {
    for (let i = 0; i < messages.length; i += 500) await producer.send(topic, messages.slice(i, i + 500));
  } else {
    // `window` senders, each sending its next one-message send() when the previous one resolved.
    const window = phase === 'batched' ? IN_FLIGHT : 64;
    let next = 0;
    const sender = async () => {
      while (next < messages.length) await producer.send(topic, [messages[next++]!]);
    };
    await Promise.all(Array.from({ length: Math.min(window, messages.length) }, sender));
  }
  const seconds = (performance.now() - t0) / 1000;
  const grew = (await onTopic(bus, topic)) - before;
  if (grew !== messages.length)
    throw new Error(`${bus.kind} ${phase}: topic grew by ${grew}, expected ${messages.length}`);
  return messages.length / seconds;
}

/**
 * Connects, fetches metadata and warms the JIT before anything is timed. A broker that has just
 * started may still answer "does not host this topic-partition" for a new topic: try again.
 */
async function warmUp(bus: Bus, topic: string): Promise<void> {
  const producer = bus.producer();
  for (let attempt = 1; ; attempt++) {
    try {
      await Promise.all(eventMessages(500, 99).map((m) => producer.send(topic, [m])));
      break;
    } catch (e) {
      if (attempt >= 10) throw e;
      console.log(`[${bus.kind}] warm-up send failed (${(e as Error).message}); retrying in 1 s`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  for (const m of eventMessages(100, 98)) await producer.send(topic, [m]);
}

interface BusResult {
  single: number;
  batched: number;
  inFlight64: number;
  arrays500: number;
}

async function measureBus(bus: Bus, label: string, messages: number): Promise<BusResult> {
  const topic = `bench${randomBytes(4).toString('hex')}.produce`;
  await bus.createTopics([{ name: topic, partitions: PARTITIONS }]);
  await warmUp(bus, topic);
  const rate = async (phase: Phase, seed: number) => {
    const r = await runPhase(bus, topic, phase, eventMessages(messages, seed));
    console.log(
      `[${label}] ${phase.padEnd(12)} ${Math.round(r).toLocaleString('en-US').padStart(9)} messages/s (${messages} messages)`,
    );
    return r;
  };
  const single = await rate('single', 1);
  const batched = await rate('batched', 2);
  const inFlight64 = await rate('in-flight-64', 3);
  const arrays500 = await rate('arrays-500', 4);
  console.log(`[${label}] batched (${IN_FLIGHT} in flight) / single = ${(batched / single).toFixed(1)}×`);
  return { single, batched, inFlight64, arrays500 };
}

async function main(): Promise<void> {
  const services = await benchServices({ kafka: true });
  const cleanups: (() => Promise<void>)[] = [];
  try {
    console.log(
      `[bench] produce: ${os.availableParallelism()} cores, load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(
          ' ',
        )}; ${MESSAGES} messages per phase, topic with ${PARTITIONS} partitions; batched = ${IN_FLIGHT} one-message sends in flight`,
    );
    const kafka = new KafkaBus(services.brokers, 'eddy-bench');
    cleanups.push(() => kafka.close());
    console.log(`\n[kafka] KafkaBus → ${services.brokers.join(',')} (idempotent producer, acks=all)`);
    const k = await measureBus(kafka, 'kafka', MESSAGES);

    let e: BusResult | undefined;
    if (EMBEDDED) {
      const db = await freshBenchDatabase(services.adminUrl, 'produce');
      cleanups.push(db.drop);
      const pool = new pg.Pool({ connectionString: db.url, max: 10 });
      cleanups.push(() => pool.end());
      const embedded = new EmbeddedBus(pool, db.url);
      cleanups.push(() => embedded.close());
      console.log('\n[embedded] EmbeddedBus → PostgreSQL log (one transaction per flush)');
      e = await measureBus(embedded, 'embedded', MESSAGES);
    }

    const ratio = k.batched / k.single;
    console.log(
      `\n[bench] Kafka: batched ${Math.round(k.batched)} vs single ${Math.round(k.single)} messages/s: ratio ${ratio.toFixed(1)} (goal ≥ 10: ${ratio >= 10 ? 'met' : 'MISSED'})`,
    );
    if (e)
      console.log(
        `[bench] embedded: batched ${Math.round(e.batched)} vs single ${Math.round(e.single)} messages/s: ratio ${(e.batched / e.single).toFixed(1)}`,
      );
    const r = Math.round;
    console.log(
      JSON.stringify({
        bench: 'produce',
        batched_per_sec: r(k.batched),
        single_per_sec: r(k.single),
        ratio: Math.round(ratio * 10) / 10,
        in_flight: IN_FLIGHT,
        in_flight_64_per_sec: r(k.inFlight64),
        arrays_500_per_sec: r(k.arrays500),
        messages: MESSAGES,
        ...(e
          ? {
              embedded_batched_per_sec: r(e.batched),
              embedded_single_per_sec: r(e.single),
              embedded_ratio: Math.round((e.batched / e.single) * 10) / 10,
            }
          : {}),
      }),
    );
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await services.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
