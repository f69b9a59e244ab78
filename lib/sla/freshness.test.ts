import { describe, expect, it } from 'vitest';
import { quantile, siteFreshness } from './freshness';

const base = { recentP95Ms: null, partitions: [], siteHasWaitingEvents: false, recentLateEvents: 0, stoppedAfterMs: 5000 };

describe('site freshness', () => {
  it('nothing recent and nothing waiting is unmeasured, not fresh and not stale', () => {
    expect(siteFreshness(base)).toEqual({ ms: null, cause: null });
  });
  it('recent events give their p95', () => {
    expect(siteFreshness({ ...base, recentP95Ms: 420 })).toEqual({ ms: 420, cause: 'lag' });
  });
  it('events waiting behind a stopped partition age with it, caused by a stopped worker', () => {
    const r = siteFreshness({ ...base, recentP95Ms: 300, siteHasWaitingEvents: true, partitions: [{ partition: 0, lag: 3, ageMs: 12_000, stalledMs: 12_000 }] });
    expect(r).toEqual({ ms: 12_000, cause: 'stopped worker' });
  });
  it('a moving but behind consumer is lag; a site with no waiting events is not blamed for it', () => {
    const partitions = [{ partition: 1, lag: 900, ageMs: 8000, stalledMs: 0 }];
    expect(siteFreshness({ ...base, siteHasWaitingEvents: true, partitions })).toEqual({ ms: 8000, cause: 'lag' });
    expect(siteFreshness({ ...base, partitions })).toEqual({ ms: null, cause: null });
  });
  it('slow visibility without any lag but with late events is late data', () => {
    expect(siteFreshness({ ...base, recentP95Ms: 9000, recentLateEvents: 4 })).toEqual({ ms: 9000, cause: 'late data' });
  });
  it('quantile is nearest rank', () => {
    expect(quantile([5, 1, 3, 2, 4], 0.95)).toBe(5);
    expect(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
    expect(quantile([], 0.95)).toBeNull();
  });
});
