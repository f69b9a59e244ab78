import type { z } from 'zod';
import { EddyError } from '../errors';
import { readBodyCapped } from './read-body';

// Request input → typed values, or a 400 that names the field. Unknown keys are dropped by the
// schemas (zod objects strip them), so extra fields in a body (owner, team, …) are ignored.

const MAX_JSON_BYTES = 64 * 1024;

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
  const parsed = schema.safeParse(raw);
  if (!parsed.success) fail(parsed.error);
  return parsed.data;
}

export function readQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const params = new URL(req.url).searchParams;
  const raw: Record<string, string> = {};
  for (const [k, v] of params) raw[k] = v;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) fail(parsed.error);
  return parsed.data;
}
