// Window assigners: which windows an element belongs to. They are plain, validated descriptions;
// the operators read them, and snapshots store them so a savepoint cannot be restored into an
// operator with different windows.

import { alignedStart } from './time';

export interface WindowBounds {
  /** Inclusive start, ms. */
  readonly start: number;
  /** Exclusive end, ms. The window's last instant (its result timestamp) is `end − 1`. */
  readonly end: number;
}

export interface TumblingWindows {
  readonly kind: 'tumbling';
  readonly size: number;
  readonly offset: number;
}

export interface SlidingWindows {
  readonly kind: 'sliding';
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
}

export interface SessionWindows {
  readonly kind: 'session';
  /** Inactivity that ends a session: events at most `gap` apart share one. */
  readonly gap: number;
}

export interface CountWindows {
  readonly kind: 'count';
  /** Elements that complete a window. */
  readonly count: number;
  /** Event time after a window's first element at which it closes anyway, because `count` may never come. */
  readonly timeout: number;
}

export type TimeWindows = TumblingWindows | SlidingWindows;
export type WindowAssigner = TimeWindows | SessionWindows | CountWindows;

function requirePositiveInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

function requireOffset(offset: number, limit: number, limitName: string): void {
  if (!Number.isSafeInteger(offset) || Math.abs(offset) >= limit) {
    throw new RangeError(`offset must be an integer with |offset| < ${limitName} (${limit}), got ${offset}`);
  }
}

export function tumblingWindows(size: number, offset = 0): TumblingWindows {
  requirePositiveInteger(size, 'size');
  requireOffset(offset, size, 'size');
  return Object.freeze({ kind: 'tumbling', size, offset });
}

/**
 * Overlapping windows of `size`, one starting every `slide`.
 * `size` must be at least `slide`: with gaps between windows, elements between them would belong to
 * no window and vanish without reaching the late side output, and Eddy drops nothing silently.
 */
export function slidingWindows(size: number, slide: number, offset = 0): SlidingWindows {
  requirePositiveInteger(size, 'size');
  requirePositiveInteger(slide, 'slide');
  requireOffset(offset, slide, 'slide');
  if (size < slide)
    throw new RangeError(`size (${size}) must be ≥ slide (${slide}): elements between windows would be lost`);
  return Object.freeze({ kind: 'sliding', size, slide, offset });
}

export function sessionWindows(gap: number): SessionWindows {
  requirePositiveInteger(gap, 'gap');
  return Object.freeze({ kind: 'session', gap });
}

export function countWindows(count: number, timeout: number): CountWindows {
  requirePositiveInteger(count, 'count');
  requirePositiveInteger(timeout, 'timeout');
  return Object.freeze({ kind: 'count', count, timeout });
}

/** The time windows an element at `ts` belongs to, latest start first (as the semantics guide lists them). */
export function assignTimeWindows(assigner: TimeWindows, ts: number): WindowBounds[] {
  const slide = assigner.kind === 'sliding' ? assigner.slide : assigner.size;
  const windows: WindowBounds[] = [];
  for (let start = alignedStart(ts, assigner.offset, slide); start > ts - assigner.size; start -= slide) {
    windows.push({ start, end: start + assigner.size });
  }
  return windows;
}

/** A single element's session window before merging. */
export function sessionWindowOf(ts: number, gap: number): WindowBounds {
  return { start: ts, end: ts + gap };
}

/** Session windows merge when they overlap or merely touch. */
export function windowsTouch(a: WindowBounds, b: WindowBounds): boolean {
  return a.start <= b.end && a.end >= b.start;
}

export function sameAssigner(a: WindowAssigner, b: WindowAssigner): boolean {
  switch (a.kind) {
    case 'tumbling':
      return b.kind === 'tumbling' && a.size === b.size && a.offset === b.offset;
    case 'sliding':
      return b.kind === 'sliding' && a.size === b.size && a.slide === b.slide && a.offset === b.offset;
    case 'session':
      return b.kind === 'session' && a.gap === b.gap;
    case 'count':
      return b.kind === 'count' && a.count === b.count && a.timeout === b.timeout;
  }
}

export function describeAssigner(a: WindowAssigner): string {
  switch (a.kind) {
    case 'tumbling':
      return `tumbling(size ${a.size}, offset ${a.offset})`;
    case 'sliding':
      return `sliding(size ${a.size}, slide ${a.slide}, offset ${a.offset})`;
    case 'session':
      return `session(gap ${a.gap})`;
    case 'count':
      return `count(${a.count}, timeout ${a.timeout})`;
  }
}
