import { describe, expect, it } from 'vitest';
import { MAX_PUSH_INTERVAL_MS, MIN_PUSH_INTERVAL_MS, pushInterval } from './push-pace';

describe('pushInterval', () => {
  it('follows what a snapshot costs, between the floor and the ceiling', () => {
    expect(pushInterval(10)).toBe(MIN_PUSH_INTERVAL_MS); // a cheap snapshot: as often as the floor allows
    expect(pushInterval(30)).toBe(120); // four snapshot durations apart
    expect(pushInterval(200)).toBe(MAX_PUSH_INTERVAL_MS); // a slow database never slows pushes below 4/s
  });

  it('starts at the ceiling until a snapshot was measured, and treats a nonsense duration the same way', () => {
    expect(pushInterval(undefined)).toBe(MAX_PUSH_INTERVAL_MS);
    expect(pushInterval(Number.NaN)).toBe(MAX_PUSH_INTERVAL_MS);
    expect(pushInterval(0)).toBe(MIN_PUSH_INTERVAL_MS);
  });
});
