import type { z } from 'zod';
import { EddyError } from '../errors';
import { readBodyCapped } from './read-body';

// Request input → typed values, or a 400 that names the field. Unknown keys are dropped by the
// schemas (zod objects strip them), so extra fields in a body (owner, team, …) are ignored.

const MAX_JSON_BYTES = 64 * 1024;

// PostgreSQL cannot store U+0000 in text/jsonb nor a lone surrogate in jsonb, so such a string
// would pass a schema and then fail as a 500 in the query. Other C0 controls (tab, LF and CR
// excepted) and DEL have no business in a name, filter or URL either. Checked here, once, for
// every body and query string before any schema sees them, so no route can forget it.
const DISALLOWED_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|\p{Cs}/u;

function describeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code >= 0xd800 && code <= 0xdfff) return `a lone surrogate (${hex})`;
  return code === 0 ? 'a NUL character (U+0000)' : `a control character (${hex})`;
}

/** The first string (value or object key) in `value` with a disallowed character, as "field: reason". */
export function findDisallowedText(value: unknown, path: (string | number)[] = []): string | null {
  const field = () => (path.length ? path.join('.') : 'body');
  if (typeof value === 'string') {
    const m = DISALLOWED_CHAR.exec(value);
    return m ? `${field()}: contains ${describeChar(m[0])}` : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findDisallowedText(value[i], [...path, i]);
      if (bad) return bad;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const keyBad = findDisallowedText(k, path);
      if (keyBad) return `${keyBad} in a key`;
      const bad = findDisallowedText(v, [...path, k]);
      if (bad) return bad;
    }
  }
  return null;
}

function rejectDisallowedText(raw: unknown): void {
  const bad = findDisallowedText(raw);
  if (bad) throw new EddyError('bad_request', bad);
}

function fail(error: z.ZodError): never {
  const issue = error.issues[0]!;
  const field = issue.path.length ? issue.path.join('.') : 'body';
  throw new EddyError('bad_request', `${field}: ${issue.message}`);
}

export async function readJson<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const text = await readBodyCapped(req, MAX_JSON_BYTES);
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new EddyError('bad_request', 'body: not valid JSON');
  }
  rejectDisallowedText(raw);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) fail(parsed.error);
  return parsed.data;
}

/**
 * A query string read by `schema`. A parameter given twice is refused (which one counts would be a
 * guess); with `onlyKnown`, so is a name the schema does not have — for the public API, where a
 * misspelt filter (`countyr=US`) would otherwise answer for the whole site without a word.
 */
export function readQuery<S extends z.ZodType>(
  req: Request,
  schema: S,
  opts: { onlyKnown?: boolean } = {},
): z.infer<S> {
  const params = new URL(req.url).searchParams;
  // No prototype: `__proto__` is then a key like any other (refused below when unknown).
  const raw = Object.create(null) as Record<string, string>;
  for (const [k, v] of params) {
    if (Object.hasOwn(raw, k)) throw new EddyError('bad_request', `${k}: given more than once`);
    raw[k] = v;
  }
  rejectDisallowedText(raw);
  const shape = 'shape' in schema ? (schema.shape as Record<string, unknown>) : undefined;
  if (opts.onlyKnown && !shape) throw new Error('readQuery: onlyKnown needs an object schema');
  if (opts.onlyKnown && shape) {
    const unknown = Object.keys(raw).find((k) => !Object.hasOwn(shape, k));
    if (unknown !== undefined)
      throw new EddyError(
        'bad_request',
        `${unknown.slice(0, 100)}: not a parameter of this endpoint (it takes ${Object.keys(shape).join(', ')})`,
      );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) fail(parsed.error);
  return parsed.data;
}
