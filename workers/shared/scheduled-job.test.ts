import { describe, expect, it } from 'vitest';
import { scheduledJob } from './scheduled-job';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduledJob', () => {
  it('a slow pass delays the next one instead of queueing passes behind it, and passes never overlap', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let passes = 0;
    const job = scheduledJob<[], void>(
      'slow',
      async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        passes++;
        await sleep(60);
        inFlight--;
      },
      { everyMs: 5, immediately: true },
    );
    const t0 = Date.now();
    job.start();
    while (passes < 3) await sleep(5);
    const stopping = job.stop();
    const atStop = passes;
    await stopping;
    const elapsed = Date.now() - t0;
    expect(maxInFlight).toBe(1);
    // Nothing was queued: stop() waited for the pass in flight only (a timer firing every 5 ms
    // regardless of the pass would have queued one per tick, and they would run now).
    expect(passes).toBe(atStop);
    expect(passes).toBeLessThanOrEqual(Math.floor(elapsed / 60) + 1);
    const after = passes;
    await sleep(50);
    expect(passes).toBe(after);
  });

  it('a failed pass is logged and the next one runs; stop waits for the pass in flight, then onStop', async () => {
    const order: string[] = [];
    let n = 0;
    const job = scheduledJob<[], void>(
      'flaky',
      async () => {
        n++;
        order.push(`pass ${n}`);
        await sleep(20);
        if (n === 1) throw new Error('boom');
        order.push(`done ${n}`);
      },
      {
        everyMs: 1,
        immediately: true,
        onStop: async () => {
          order.push('onStop');
        },
      },
    );
    job.start();
    job.start(); // a second start is ignored
    while (n < 2) await sleep(5);
    await job.stop();
    expect(order.slice(0, 2)).toEqual(['pass 1', 'pass 2']);
    expect(order.at(-1)).toBe('onStop');
    expect(order.at(-2)).toMatch(/^done /);
  });

  it('without immediately, the first pass waits one interval; runOnce runs now with its arguments', async () => {
    const seen: number[] = [];
    const job = scheduledJob<[x?: number], number>('args', async (x = 7) => (seen.push(x), x), { everyMs: 40 });
    job.start();
    await sleep(10);
    expect(seen).toEqual([]);
    expect(await job.runOnce(3)).toBe(3);
    // Wait for the timer's own pass (on a busy machine timers run late; a fixed sleep could miss it).
    while (seen.length < 2) await sleep(5);
    await job.stop();
    expect(seen[0]).toBe(3);
    expect(seen.slice(1).every((x) => x === 7)).toBe(true);
    expect(seen.length).toBeGreaterThanOrEqual(2);
  });
});
