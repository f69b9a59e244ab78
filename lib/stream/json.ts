/** A JSON value: what snapshots and accumulator codecs are made of, so they survive `JSON.stringify`. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Narrowing helpers for decoding snapshots; they throw with the path so a bad savepoint is easy to locate. */
export function asObject(json: Json | undefined, path: string): { [key: string]: Json } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new TypeError(`snapshot: ${path} must be an object`);
  }
  return json;
}

export function asArray(json: Json | undefined, path: string): Json[] {
  if (!Array.isArray(json)) throw new TypeError(`snapshot: ${path} must be an array`);
  return json;
}

export function asNumber(json: Json | undefined, path: string): number {
  if (typeof json !== 'number' || !Number.isFinite(json))
    throw new TypeError(`snapshot: ${path} must be a finite number`);
  return json;
}

export function asBoolean(json: Json | undefined, path: string): boolean {
  if (typeof json !== 'boolean') throw new TypeError(`snapshot: ${path} must be a boolean`);
  return json;
}

/** Structural equality of two JSON values (object key order ignored). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as Json[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ao = a as { [key: string]: Json };
  const bo = b as { [key: string]: Json };
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length && keys.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}
