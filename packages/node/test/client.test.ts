import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { EddyClient } from '../src/client';

// The queue's bound against a real refused connection (nothing listens on the port): tracking
// never throws or waits, memory stays at maxQueue, and what does not fit is dropped and counted.

function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const event = (i: number) => ({
  name: 'request',
  url: `https://shop.example/${i}`,
  ip: '203.0.113.7',
  user_agent: 'test',
  request: { method: 'GET', status: 200, duration_ms: 1 },
});

describe('EddyClient', () => {
  it('holds at most maxQueue events while Eddy is unreachable, dropping and counting the rest', async () => {
    const errors: Error[] = [];
    const client = new EddyClient({
      apiKey: 'eddy_test',
      endpoint: `http://127.0.0.1:${await unusedPort()}`,
      maxQueue: 50,
      batchSize: 10,
      initialBackoffMs: 20,
      maxBackoffMs: 50,
      flushOnExit: false,
      onError: (e) => errors.push(e),
    });
    const accepted = Array.from({ length: 80 }, (_, i) => client.track(event(i)));
    expect(accepted.filter(Boolean).length).toBe(50);
    expect(client.stats()).toMatchObject({ pending: 50, droppedQueueFull: 30, sent: 0 });
    // Sends fail and are retried; the events stay held (same ids), never more than the bound.
    await new Promise((r) => setTimeout(r, 300));
    const s = client.stats();
    expect(s.retries).toBeGreaterThan(0);
    expect(s.pending).toBe(50);
    expect(errors.length).toBeGreaterThan(0);
    expect(client.track(event(81))).toBe(false);
    await client.shutdown(100);
    expect(client.track(event(82))).toBe(false);
  });

  it('never throws into the caller, whatever it is given', () => {
    const client = new EddyClient({
      apiKey: 'eddy_test',
      endpoint: 'http://127.0.0.1:9',
      flushOnExit: false,
      onError: () => {
        throw new Error('a broken hook');
      },
    });
    expect(() => client.track(undefined as never)).not.toThrow();
    expect(() => client.track({ ...event(1), props: { circular: 1 } })).not.toThrow();
    void client.shutdown(10);
  });
});
