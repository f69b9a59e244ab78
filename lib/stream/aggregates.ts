// Mergeable aggregates. Every window operator keeps accumulators, not elements, and combines them:
// sliding windows merge the slices they span, session windows merge when sessions join. So each
// aggregate must be a commutative monoid (create() is the identity, merge is associative and
// commutative), and it carries a JSON codec so accumulators can go into checkpoints.

import type { Json } from './json';

export interface Aggregate<V, A, R> {
  create(): A;
  /** May update `acc` in place; the operator keeps the returned accumulator. */
  add(acc: A, value: V): A;
  /**
   * May update `into` in place and returns the combined accumulator. Must never change `other`:
   * a slice is shared by every sliding window that spans it.
   */
  merge(into: A, other: A): A;
  /** Must not return a live reference into `acc`: results outlive the accumulator's later updates. */
  result(acc: A): R;
  toJSON(acc: A): Json;
  fromJSON(json: Json): A;
}

function finiteNumber(json: Json, name: string): number {
  if (typeof json !== 'number' || !Number.isFinite(json))
    throw new TypeError(`${name} accumulator must be a finite number`);
  return json;
}

function numberOrNull(json: Json, name: string): number | null {
  if (json === null) return null;
  return finiteNumber(json, name);
}

/** Number of elements. */
export function count(): Aggregate<unknown, number, number> {
  return {
    create: () => 0,
    add: (acc) => acc + 1,
    merge: (a, b) => a + b,
    result: (acc) => acc,
    toJSON: (acc) => acc,
    fromJSON: (json) => finiteNumber(json, 'count'),
  };
}

/** Sum of a numeric field (or of the values themselves). */
export function sum(): Aggregate<number, number, number>;
export function sum<V>(select: (value: V) => number): Aggregate<V, number, number>;
export function sum<V>(select?: (value: V) => number): Aggregate<V, number, number> {
  const pick = select ?? ((value: V) => Number(value));
  return {
    create: () => 0,
    add: (acc, value) => acc + pick(value),
    merge: (a, b) => a + b,
    result: (acc) => acc,
    toJSON: (acc) => acc,
    fromJSON: (json) => finiteNumber(json, 'sum'),
  };
}

function extreme<V>(
  name: string,
  select: (value: V) => number,
  better: (a: number, b: number) => boolean,
): Aggregate<V, number | null, number | null> {
  // null rather than ±Infinity for "no element yet": it survives JSON unchanged.
  const pickBetter = (a: number | null, b: number | null): number | null =>
    a === null ? b : b === null ? a : better(b, a) ? b : a;
  return {
    create: () => null,
    add: (acc, value) => pickBetter(acc, select(value)),
    merge: pickBetter,
    result: (acc) => acc,
    toJSON: (acc) => acc,
    fromJSON: (json) => numberOrNull(json, name),
  };
}

/** Smallest value of a numeric field; null for a window without elements. */
export function min(): Aggregate<number, number | null, number | null>;
export function min<V>(select: (value: V) => number): Aggregate<V, number | null, number | null>;
export function min<V>(select?: (value: V) => number): Aggregate<V, number | null, number | null> {
  return extreme<V>('min', select ?? ((value: V) => Number(value)), (a, b) => a < b);
}

/** Largest value of a numeric field; null for a window without elements. */
export function max(): Aggregate<number, number | null, number | null>;
export function max<V>(select: (value: V) => number): Aggregate<V, number | null, number | null>;
export function max<V>(select?: (value: V) => number): Aggregate<V, number | null, number | null> {
  return extreme<V>('max', select ?? ((value: V) => Number(value)), (a, b) => a > b);
}

// ---- composition -------------------------------------------------------------------------------

/** Any aggregate, whatever it consumes: the widest type a named part may have. */
export type SomeAggregate = Aggregate<never, unknown, unknown>;

type InputOf<G> = G extends Aggregate<infer V, infer _A, infer _R> ? V : never;
type AccumulatorOf<G> = G extends Aggregate<infer _V, infer A, infer _R> ? A : never;
type ResultOf<G> = G extends Aggregate<infer _V, infer _A, infer R> ? R : never;
/** The value type every part accepts: the intersection of the parts' inputs (`unknown` drops out). */
type InputOfAll<S> = { [N in keyof S]: (value: InputOf<S[N]>) => void }[keyof S] extends (value: infer I) => void
  ? I
  : never;

export type CompositeAccumulator<S> = { [N in keyof S]: AccumulatorOf<S[N]> };
export type CompositeResult<S> = { [N in keyof S]: ResultOf<S[N]> };

/**
 * Several aggregates over the same elements, computed together and reported as one record,
 * e.g. `composite({ pageviews: count(), visitors: distinctCount((e: PageView) => e.visitorId) })`.
 */
export function composite<S extends Record<string, SomeAggregate>>(
  parts: S,
): Aggregate<InputOfAll<S>, CompositeAccumulator<S>, CompositeResult<S>> {
  type V = InputOfAll<S>;
  type Acc = CompositeAccumulator<S>;
  // Parts are stored once as (name, aggregate) pairs so each call walks an array, not object keys.
  const entries = Object.keys(parts).map((name) => [name, parts[name] as Aggregate<V, unknown, unknown>] as const);
  const fresh = (): Record<string, unknown> => ({});
  return {
    create() {
      const acc = fresh();
      for (const [name, part] of entries) acc[name] = part.create();
      return acc as Acc;
    },
    add(acc, value) {
      const record = acc as Record<string, unknown>;
      for (const [name, part] of entries) record[name] = part.add(record[name], value);
      return acc;
    },
    merge(into, other) {
      const a = into as Record<string, unknown>;
      const b = other as Record<string, unknown>;
      for (const [name, part] of entries) a[name] = part.merge(a[name], b[name]);
      return into;
    },
    result(acc) {
      const record = acc as Record<string, unknown>;
      const out = fresh();
      for (const [name, part] of entries) out[name] = part.result(record[name]);
      return out as CompositeResult<S>;
    },
    toJSON(acc) {
      const record = acc as Record<string, unknown>;
      const out: { [key: string]: Json } = {};
      for (const [name, part] of entries) out[name] = part.toJSON(record[name]);
      return out;
    },
    fromJSON(json) {
      if (json === null || typeof json !== 'object' || Array.isArray(json))
        throw new TypeError('composite accumulator must be an object');
      const acc = fresh();
      for (const [name, part] of entries) {
        const partJson = json[name];
        if (partJson === undefined) throw new TypeError(`composite accumulator lacks part "${name}"`);
        acc[name] = part.fromJSON(partJson);
      }
      return acc as Acc;
    },
  };
}
