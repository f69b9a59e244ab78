import type { Json } from './json';
import type { Key } from './operator';

// Erasure from a checkpoint: removes every key the predicate names from an operator snapshot,
// with its windows, timers, accumulators and what they last emitted. Each operator keeps its
// state as a list of entries that each carry their own key (time windows: `keys`; session
// windows: `sessions`; count and naive sliding windows: `windows`), and no entry refers to
// another key, so dropping entries leaves a snapshot the operator restores as if those keys had
// never been seen. Watermarks are per partition, not per key, and stay. Pure.

const ENTRY_LISTS = ['keys', 'sessions', 'windows'] as const;

function isSnapshot(v: Json): v is { [k: string]: Json } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    typeof v.operator === 'string' &&
    'state' in v &&
    'watermark' in v
  );
}

/** The snapshot without the predicate's keys, and how many entries were removed. */
export function forgetKeys(snapshot: Json, forget: (key: Key) => boolean): { snapshot: Json; removed: number } {
  if (!isSnapshot(snapshot)) return { snapshot, removed: 0 };
  const state = snapshot.state;
  if (typeof state !== 'object' || state === null || Array.isArray(state)) return { snapshot, removed: 0 };
  let removed = 0;
  const next: { [k: string]: Json } = { ...state };
  for (const list of ENTRY_LISTS) {
    const entries = state[list];
    if (!Array.isArray(entries)) continue;
    next[list] = entries.filter((e) => {
      const key = typeof e === 'object' && e !== null && !Array.isArray(e) ? e.key : undefined;
      const drop = (typeof key === 'string' || typeof key === 'number') && forget(key);
      if (drop) removed++;
      return !drop;
    });
  }
  return { snapshot: { ...snapshot, state: next }, removed };
}

/**
 * A job checkpoint holds operator snapshots somewhere inside its own JSON (one under `operator`,
 * a list under `operators`, pairs of [gap, snapshot] …): applies forgetKeys to every snapshot
 * found at any depth, and drops object entries whose property name the predicate names (a map by
 * key), so a job's checkpoint layout needs no erasure code of its own.
 */
export function forgetKeysDeep(checkpoint: Json, forget: (key: Key) => boolean): { checkpoint: Json; removed: number } {
  let removed = 0;
  const walk = (v: Json): Json => {
    if (isSnapshot(v)) {
      const r = forgetKeys(v, forget);
      removed += r.removed;
      return r.snapshot;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) {
      // A job may also keep a map by key beside its operators (the peaks job: the time zone each
      // site's rows were cut with): its entries go too.
      const kept = Object.entries(v as { [k: string]: Json }).filter(([k]) => {
        const drop = forget(k);
        if (drop) removed++;
        return !drop;
      });
      return Object.fromEntries(kept.map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  const out = walk(checkpoint);
  return { checkpoint: out, removed };
}
