import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignTimeWindows,
  countWindows,
  sessionWindows,
  slidingWindows,
  tumblingWindows,
  windowsTouch,
} from './assigners';
import { alignedStart, mod } from './time';

describe('window assigners', () => {
  it('mod is a true mathematical modulo, so negative timestamps align downwards', () => {
    expect(mod(-3, 5)).toBe(2);
    expect(mod(-10, 5)).toBe(0);
    expect(mod(7, 5)).toBe(2);
    expect(alignedStart(-1, 0, 10)).toBe(-10);
    expect(alignedStart(-10, 0, 10)).toBe(-10);
    expect(alignedStart(-11, 0, 10)).toBe(-20);
  });

  it('tumbling windows align to the offset, also before the epoch', () => {
    expect(assignTimeWindows(tumblingWindows(10), -1)).toEqual([{ start: -10, end: 0 }]);
    expect(assignTimeWindows(tumblingWindows(10), 0)).toEqual([{ start: 0, end: 10 }]);
    expect(assignTimeWindows(tumblingWindows(10, 3), 2)).toEqual([{ start: -7, end: 3 }]);
    expect(assignTimeWindows(tumblingWindows(10, -3), 7)).toEqual([{ start: 7, end: 17 }]);
  });

  it('sliding windows list every window holding the element, latest start first, also for negative timestamps', () => {
    expect(assignTimeWindows(slidingWindows(10, 5), -3)).toEqual([
      { start: -5, end: 5 },
      { start: -10, end: 0 },
    ]);
    expect(assignTimeWindows(slidingWindows(10, 4, 1), 12)).toEqual([
      { start: 9, end: 19 },
      { start: 5, end: 15 },
    ]);
  });

  it('sliding assignment equals trying every aligned start, for random sizes, slides, offsets and timestamps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer(),
        (slide, extra, ts, rawOffset) => {
          const size = slide + extra;
          const offset = (rawOffset % slide) | 0;
          const expected: { start: number; end: number }[] = [];
          for (let s = ts; s > ts - size; s--)
            if (mod(s - offset, slide) === 0) expected.push({ start: s, end: s + size });
          expect(assignTimeWindows(slidingWindows(size, slide, offset), ts)).toEqual(expected);
        },
      ),
    );
  });

  it('rejects offsets of a slide or more, windows smaller than their slide, and non-positive sizes', () => {
    expect(() => slidingWindows(10, 5, 5)).toThrow(RangeError);
    expect(() => slidingWindows(10, 5, -5)).toThrow(RangeError);
    expect(() => tumblingWindows(10, 10)).toThrow(RangeError);
    expect(() => slidingWindows(4, 5)).toThrow(/lost/);
    expect(() => tumblingWindows(0)).toThrow(RangeError);
    expect(() => tumblingWindows(1.5)).toThrow(RangeError);
    expect(() => sessionWindows(0)).toThrow(RangeError);
    expect(() => countWindows(0, 10)).toThrow(RangeError);
    expect(() => countWindows(3, 0)).toThrow(RangeError);
  });

  it('session windows touch when one ends exactly where the other starts', () => {
    expect(windowsTouch({ start: 0, end: 10 }, { start: 10, end: 20 })).toBe(true);
    expect(windowsTouch({ start: 0, end: 10 }, { start: 11, end: 20 })).toBe(false);
    expect(windowsTouch({ start: 15, end: 30 }, { start: 0, end: 15 })).toBe(true);
  });
});
