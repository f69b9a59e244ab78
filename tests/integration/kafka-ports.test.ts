import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { env } from '@/lib/env';
import { ensureKafka, type KafkaHandle } from '@/scripts/services/kafka';
import { dataPath, freePort } from '@/scripts/services/util';

// The broker helper used to put Kafka's controller on port + 1 without looking, and a test run
// failed with "Address already in use" when another process held it. It now takes a free port,
// and a restart on the same data keeps the controller port it had.

const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });

let blocker: Server | undefined;
let kafka: KafkaHandle | undefined;
afterAll(async () => {
  await kafka?.stop();
  await new Promise((r) => (blocker ? blocker.close(r) : r(undefined)));
});

describe('Kafka broker helper', () => {
  it(
    'starts when port + 1 is taken, and a restart on the same data keeps its controller port',
    { timeout: 180_000 },
    async () => {
      let port = 0;
      for (let i = 0; !blocker; i++) {
        port = await freePort();
        blocker = await listen(port + 1).catch(() => undefined); // port + 1 held by "another process"
        if (i > 20) throw new Error('no port pair found');
      }
      const name = `ports-${port}`;
      const props = path.join(path.dirname(dataPath(env().EDDY_DATA_DIR, 'kafka', name, 'x')), 'server.properties');
      const controllerPort = () => Number(/CONTROLLER:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(props, 'utf8'))![1]);
      const topics = async (brokers: string) => {
        const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        try {
          return await admin.listTopics();
        } finally {
          await admin.disconnect();
        }
      };

      kafka = await ensureKafka({
        version: env().KAFKA_VERSION,
        port,
        dataDir: env().EDDY_DATA_DIR,
        name,
        reuseRunning: false,
      });
      const first = controllerPort();
      expect(first).not.toBe(port + 1);
      expect(Array.isArray(await topics(kafka.brokers))).toBe(true);
      await kafka.stop();

      kafka = await ensureKafka({
        version: env().KAFKA_VERSION,
        port,
        dataDir: env().EDDY_DATA_DIR,
        name,
        reuseRunning: false,
        throwaway: true,
      });
      expect(controllerPort()).toBe(first);
      expect(Array.isArray(await topics(kafka.brokers))).toBe(true);
    },
  );
});
