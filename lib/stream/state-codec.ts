import { SnapshotError } from './errors';
import type { Json } from './json';

// A job's checkpoint, stored as JSON beside its offsets, is read back by a later release of the
// same job: like Flink's TypeSerializer snapshots, the stored form names its version, and decoding
// checks the version and the shape before anything is restored. A checkpoint that is not what this
// release understands fails at restore with a SnapshotError that says which field, instead of a cast
// letting a half-read state through.

export type JsonObject = { [key: string]: Json };

export interface StateCodec<T extends JsonObject> {
  readonly name: string;
  readonly version: number;
  /** The stored form: the state's fields plus `v`, the codec version. */
  encode(state: T): Json;
  /** Reads a stored form of any version this codec accepts. */
  decode(json: Json): T;
}

/** Field readers for `decode`: each throws a SnapshotError naming the codec and the field. */
export interface Fields {
  readonly version: number;
  /** Whether the stored form has the field (for fields added after the version was first used). */
  has(key: string): boolean;
  object(key: string): JsonObject;
  array(key: string): Json[];
  number(key: string): number;
}

export function stateCodec<T extends JsonObject>(spec: {
  name: string;
  version: number;
  /**
   * Versions stored before this one that `decode` still reads (the fields tell it which). A
   * checkpoint without `v` was written before checkpoints were versioned and counts as version 1.
   */
  reads?: readonly number[];
  decode: (fields: Fields) => T;
}): StateCodec<T> {
  const readable = new Set([spec.version, ...(spec.reads ?? [])]);
  return {
    name: spec.name,
    version: spec.version,
    encode: (state) => ({ ...state, v: spec.version }),
    decode(json) {
      if (json === null || typeof json !== 'object' || Array.isArray(json))
        throw new SnapshotError(`${spec.name}: checkpoint must be an object`);
      const root = json;
      const version = root.v === undefined ? 1 : root.v;
      if (typeof version !== 'number' || !readable.has(version)) {
        throw new SnapshotError(
          `${spec.name}: checkpoint version ${JSON.stringify(version)} is not one this release reads (${[...readable].join(', ')})`,
        );
      }
      const fail = (key: string, what: string): never => {
        throw new SnapshotError(`${spec.name} v${version}: ${key} must be ${what}`);
      };
      const present = (key: string): Json => (root[key] === undefined ? fail(key, 'present') : root[key]!);
      const fields: Fields = {
        version,
        has: (key) => root[key] !== undefined,
        object(key) {
          const x = present(key);
          return x !== null && typeof x === 'object' && !Array.isArray(x) ? x : fail(key, 'an object');
        },
        array(key) {
          const x = present(key);
          return Array.isArray(x) ? x : fail(key, 'an array');
        },
        number(key) {
          const x = present(key);
          return typeof x === 'number' && Number.isFinite(x) ? x : fail(key, 'a finite number');
        },
      };
      return spec.decode(fields);
    },
  };
}
