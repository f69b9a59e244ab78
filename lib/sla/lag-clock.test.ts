import { describe, expect, it } from 'vitest';
import { LagClock } from './lag-clock';

describe('lag clock', () => {
  it('steady traffic that is applied within a sample interval has a small age, however many offsets behind', () => {
    const c = new LagClock();
    let end = 0n;
    let last = { ageMs: 0, lag: 0 };
    for (let t = 0; t <= 20_000; t += 1000) {
      end += 100n;
      last = c.observe(0, end, end - 10n, t); // always 10 behind, but moving
    }
    expect(last.lag).toBe(10);
    expect(last.ageMs).toBe(0);
  });

  it('a stopped consumer ages from the first sample that saw the unapplied message', () => {
    const c = new LagClock();
    c.observe(0, 5n, 5n, 0);
    c.observe(0, 6n, 5n, 1000); // offset 5 produced in (0, 1000]
    c.observe(0, 9n, 5n, 2000);
    const r = c.observe(0, 9n, 5n, 31_000);
    expect(r).toEqual({ partition: 0, lag: 4, ageMs: 30_000, stalledMs: 30_000 });
  });

  it('a consumer that catches up is back at zero, and a new stall starts from its own beginning', () => {
    const c = new LagClock();
    c.observe(0, 1n, 0n, 0);
    expect(c.observe(0, 1n, 1n, 10_000).ageMs).toBe(0);
    c.observe(0, 2n, 1n, 11_000);
    expect(c.observe(0, 2n, 1n, 14_000).ageMs).toBe(3000);
  });

  it('a slow consumer that moves is lagging but not stalled', () => {
    const c = new LagClock();
    c.observe(0, 100n, 0n, 0);
    const r = c.observe(0, 100n, 50n, 5000);
    expect(r.ageMs).toBe(5000);
    expect(r.stalledMs).toBe(0);
  });
});
