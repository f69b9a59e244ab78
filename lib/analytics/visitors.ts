import { HyperLogLog, type HyperLogLogJson } from '../stream';

// Unique visitors over any set of rollup rows: merge their HyperLogLog sketches (a union of
// sets), never add their counts (a visitor seen in two minutes would count twice).

export function mergeVisitorSketches(sketches: (HyperLogLogJson | null | undefined)[]): HyperLogLog {
  const merged = new HyperLogLog(14);
  for (const s of sketches) if (s) merged.merge(HyperLogLog.fromJSON(s));
  return merged;
}

export function countVisitors(sketches: (HyperLogLogJson | null | undefined)[]): number {
  return mergeVisitorSketches(sketches).estimate();
}
