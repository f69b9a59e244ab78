// Event time is integer milliseconds since the epoch. The watermark starts below every timestamp,
// and a bounded input may end with a watermark of +Infinity ("no more data"), so both infinities
// need a JSON form: JSON.stringify would turn them into null and lose which one it was.

import type { Json } from './json';

/** The watermark before any data has been seen: every timestamp is still on time. */
export const NO_WATERMARK = Number.NEGATIVE_INFINITY;

/** Mathematical modulo: the result has the sign of `n`, so alignment works for negative timestamps. */
export function mod(a: number, n: number): number {
  const r = a % n;
  // `+ 0` turns −0 into 0, so exact multiples of negative numbers do not produce −0 window bounds.
  return r < 0 ? r + n : r + 0;
}

export function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return Math.abs(a);
}

/** Start of the aligned bucket of width `size` holding `ts`: `ts − ((ts − offset) mod size)`. */
export function alignedStart(ts: number, offset: number, size: number): number {
  return ts - mod(ts - offset, size);
}

/** Smallest aligned bucket start that is ≥ `ts`. */
export function alignedStartAtOrAfter(ts: number, offset: number, size: number): number {
  return ts + mod(offset - ts, size);
}

export type EncodedTime = number | null | 'Infinity';

export function encodeTime(t: number): EncodedTime {
  if (t === Number.NEGATIVE_INFINITY) return null;
  if (t === Number.POSITIVE_INFINITY) return 'Infinity';
  return t;
}

export function decodeTime(json: Json | undefined, path: string): number {
  if (json === null) return Number.NEGATIVE_INFINITY;
  if (json === 'Infinity') return Number.POSITIVE_INFINITY;
  if (typeof json === 'number' && Number.isFinite(json)) return json;
  throw new TypeError(`snapshot: ${path} must be a number, null (−∞) or "Infinity"`);
}

export function assertTimestamp(ts: number): void {
  if (!Number.isSafeInteger(ts))
    throw new RangeError(`event timestamp must be an integer number of milliseconds, got ${ts}`);
}
