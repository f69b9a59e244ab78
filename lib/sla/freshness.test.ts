import { describe, expect, it } from 'vitest';
import { quantile, siteFreshness, waitingMs } from './freshness';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const base = {
  now: NOW,
  recentDelayMs: null,
  visibleReceivedAt: null,
  lastAcceptedAt: null,
  partitions: [],
  recentLateEvents: 0,
  stoppedAfterMs: 3000,
  slackMs: 3000,
};
const stalled = (ageMs: number, stalledMs = ageMs) => [{ partition: 0, lag: 3, ageMs, stalledMs }];

describe('site freshness', () => {
  it('nothing recent and nothing waiting is unmeasured, not fresh and not stale', () => {
    expect(siteFreshness(base)).toEqual({ ms: null, cause: null });
  });
  it('events made visible recently give their delay', () => {
    expect(siteFreshness({ ...base, recentDelayMs: 420 })).toEqual({ ms: 420, cause: 'lag' });
  });
  it('a stopped worker: the site is behind by now minus the receive time of its newest visible event', () => {
    const r = siteFreshness({
      ...base,
      recentDelayMs: 300,
      visibleReceivedAt: NOW - 10_000,
      lastAcceptedAt: NOW - 500,
      partitions: stalled(12_000),
    });
    expect(r).toEqual({ ms: 10_000, cause: 'stopped worker' });
  });
  it('a quiet site whose first new event is in flight is not charged for the hours it was quiet', () => {
    expect(
      waitingMs({
        ...base,
        visibleReceivedAt: NOW - 3 * 3_600_000,
        lastAcceptedAt: NOW - 100,
        partitions: [{ partition: 1, lag: 1, ageMs: 800, stalledMs: 0 }],
      }),
    ).toBe(800);
  });
  it('nothing newer than the newest visible event was acknowledged: not waiting, whatever other sites lag', () => {
    expect(
      waitingMs({ ...base, visibleReceivedAt: NOW - 500, lastAcceptedAt: NOW - 500, partitions: stalled(60_000) }),
    ).toBeNull();
  });
  it('a duplicate acknowledged after the last visible event and already dropped does not keep the site behind', () => {
    // Accepted 40 s ago, but the oldest unapplied message is only 2 s old: that event was applied.
    expect(
      waitingMs({ ...base, visibleReceivedAt: NOW - 60_000, lastAcceptedAt: NOW - 40_000, partitions: stalled(2000) }),
    ).toBeNull();
    // No lag at all: nothing waits.
    expect(
      waitingMs({ ...base, visibleReceivedAt: NOW - 60_000, lastAcceptedAt: NOW - 1000, partitions: [] }),
    ).toBeNull();
  });
  it('a moving but behind consumer is lag, not a stopped worker', () => {
    const partitions = [{ partition: 1, lag: 900, ageMs: 8000, stalledMs: 0 }];
    expect(siteFreshness({ ...base, visibleReceivedAt: NOW - 9000, lastAcceptedAt: NOW - 10, partitions })).toEqual({
      ms: 8000,
      cause: 'lag',
    });
  });
  it('slow visibility without anything waiting but with late events is late data', () => {
    expect(siteFreshness({ ...base, recentDelayMs: 9000, recentLateEvents: 4 })).toEqual({
      ms: 9000,
      cause: 'late data',
    });
  });
  it('quantile is nearest rank', () => {
    expect(quantile([5, 1, 3, 2, 4], 0.95)).toBe(5);
    expect(
      quantile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        0.95,
      ),
    ).toBe(95);
    expect(quantile([], 0.95)).toBeNull();
  });
});
