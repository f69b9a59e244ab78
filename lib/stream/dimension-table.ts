// A side input (sites, page groups, referrer channels) held as an immutable, versioned snapshot.
// Readers take `snapshot()` once per batch and enrich the whole batch with it; a refresh builds the
// next snapshot off to the side and swaps one reference, so no reader ever sees half of an update.
// The version goes into every operator checkpoint so a restored worker can enrich the same way.

export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyMap<infer MK, infer MV>
    ? ReadonlyMap<MK, DeepReadonly<MV>>
    : T extends ReadonlySet<infer SV>
      ? ReadonlySet<DeepReadonly<SV>>
      : T extends readonly (infer U)[]
        ? readonly DeepReadonly<U>[]
        : T extends object
          ? { readonly [P in keyof T]: DeepReadonly<T[P]> }
          : T;

export interface DimensionSnapshot<T> {
  readonly version: number;
  readonly data: DeepReadonly<T>;
}

function refuseMutation(): never {
  throw new TypeError('dimension snapshots are immutable: refresh the table instead');
}

/** Freezes plain objects and arrays and locks Maps and Sets, recursively. */
function deepFreeze<T>(value: T, seen: Set<object> = new Set()): DeepReadonly<T> {
  if (value === null || typeof value !== 'object' || seen.has(value) || ArrayBuffer.isView(value))
    return value as DeepReadonly<T>;
  seen.add(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      deepFreeze(k, seen);
      deepFreeze(v, seen);
    }
    // Object.freeze does not stop Map.prototype.set, so shadow the mutators on the instance.
    for (const method of ['set', 'delete', 'clear']) Object.defineProperty(value, method, { value: refuseMutation });
  } else if (value instanceof Set) {
    for (const v of value) deepFreeze(v, seen);
    for (const method of ['add', 'delete', 'clear']) Object.defineProperty(value, method, { value: refuseMutation });
  } else {
    for (const v of Object.values(value)) deepFreeze(v, seen);
  }
  return Object.freeze(value) as DeepReadonly<T>;
}

export class DimensionTable<T> {
  private current: DimensionSnapshot<T>;
  private refreshesStarted = 0;
  private latestApplied = 0;

  /** Takes ownership of `initial` and freezes it. */
  constructor(initial: T, version = 0) {
    if (!Number.isSafeInteger(version) || version < 0)
      throw new RangeError(`dimension version must be a non-negative integer, got ${version}`);
    this.current = Object.freeze({ version, data: deepFreeze(initial) });
  }

  get version(): number {
    return this.current.version;
  }

  get data(): DeepReadonly<T> {
    return this.current.data;
  }

  /** The current snapshot; hold on to it for the duration of one batch. */
  snapshot(): DimensionSnapshot<T> {
    return this.current;
  }

  /**
   * Installs new data atomically. The version defaults to the next integer; an explicit one (e.g. the
   * version a checkpoint recorded) must not go backwards.
   */
  swap(data: T, version = this.current.version + 1): DimensionSnapshot<T> {
    if (!Number.isSafeInteger(version) || version < this.current.version) {
      throw new RangeError(`dimension version must be an integer ≥ ${this.current.version}, got ${version}`);
    }
    this.current = Object.freeze({ version, data: deepFreeze(data) });
    return this.current;
  }

  /**
   * Loads new data and swaps it in. Overlapping refreshes cannot go back in time: if a refresh that
   * started later has already been applied, an older one that finishes afterwards is discarded.
   * A failing loader leaves the current snapshot in place and rejects.
   */
  async refresh(loader: () => T | Promise<T>): Promise<DimensionSnapshot<T>> {
    const ticket = ++this.refreshesStarted;
    const data = await loader();
    if (ticket < this.latestApplied) return this.current;
    this.latestApplied = ticket;
    return this.swap(data);
  }
}
