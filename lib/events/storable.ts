// What PostgreSQL can store. `text` refuses U+0000 and `jsonb` refuses both U+0000 and lone
// UTF-16 surrogates (a JSON "\ud800" with no partner), so a string that reaches the collect
// endpoint with either would be accepted and then fail in every job that writes it — the crash
// loop of issue 13. Eddy normalises rather than rejects: the tracker truncates strings and can
// cut an emoji in half, and a real visit should not be lost to that. Both become U+FFFD, the
// replacement character TextEncoder would also produce. Applied where records are made (collect)
// and again where they are read (decode), so records already on the topic are safe too.

import { env } from '../env';

const REPLACEMENT = '\uFFFD';

export function storableText(s: string): string {
  if (unguarded()) return s; // the fault suite's negative control only
  // toWellFormed (ES2024, Node ≥ 20) replaces lone surrogates; NUL needs its own replace.
  const wellFormed = s.isWellFormed() ? s : s.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', REPLACEMENT) : wellFormed;
}

/** `value` with every string, object key included, made storable. Arrays and plain objects only (JSON values). */
export function storable<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => storable(v)) as T;
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties: assigning out['__proto__'] would drop a property a
    // client named "__proto__" (or, with an object value, change the prototype).
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [storableText(k), storable(v)]),
    ) as T;
  }
  return value;
}

// In a text that is itself well-formed (as any decoded UTF-8 is), only an escape puts a NUL or a
// lone surrogate into a parsed string: JSON refuses raw control characters inside strings. A
// match may be a false alarm (an escaped backslash before "u0000"); the full pass then runs.
const UNSTORABLE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

/**
 * JSON.parse of a body or a record, made storable — storable(JSON.parse(text)) without rebuilding
 * every object when no string can need it, which is nearly always: storable() copied each event
 * twice over (collect, then every job's decode), ~2 % of both processes' CPU at 1,000 events/s.
 */
export function parseStorableJson(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  if (text.isWellFormed() && !UNSTORABLE_ESCAPE.test(text)) return value;
  return storable(value);
}

let variant: boolean | undefined;
const unguarded = () => (variant ??= env().EDDY_TEST_BROKEN_VARIANT === 'no-poison-guards');
