// What PostgreSQL can store. `text` refuses U+0000 and `jsonb` refuses both U+0000 and lone
// UTF-16 surrogates (a JSON "\ud800" with no partner), so a string that reaches the collect
// endpoint with either would be accepted and then fail in every job that writes it — the crash
// loop of issue 13. Eddy normalises rather than rejects: the tracker truncates strings and can
// cut an emoji in half, and a real visit should not be lost to that. Both become U+FFFD, the
// replacement character TextEncoder would also produce. Applied where records are made (collect)
// and again where they are read (decode), so records already on the topic are safe too.

const REPLACEMENT = '\uFFFD';

export function storableText(s: string): string {
  // toWellFormed (ES2024, Node ≥ 20) replaces lone surrogates; NUL needs its own replace.
  const wellFormed = s.isWellFormed() ? s : s.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', REPLACEMENT) : wellFormed;
}

/** `value` with every string, object key included, made storable. Arrays and plain objects only (JSON values). */
export function storable<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => storable(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[storableText(k)] = storable(v);
    return out as T;
  }
  return value;
}
