import bcrypt from 'bcryptjs';
import { z } from 'zod';
import { EddyError } from '../errors';

const COST = 12;

export const PASSWORD_MIN_LENGTH = 8;
/** What sign-in and "current password" fields accept (older passwords may be longer than a new one may be). */
export const PASSWORD_MAX_LENGTH = 200;
// bcrypt reads only the first 72 bytes of its input and ignores the rest, so two passwords equal
// in their first 72 bytes would be interchangeable. New passwords are refused past that instead
// of silently cut (pre-hashing would also work, but changes every stored hash's meaning; issue 19
// moves to argon2id, which has no such limit). Counted in UTF-8: "é" is 2 bytes, most emoji 4.
export const PASSWORD_MAX_BYTES = 72;

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');
const tooLong = `must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8 (${PASSWORD_MAX_BYTES} plain letters or digits; accented letters count 2, emoji 4)`;

/** A password being set: sign-up, change-password, share links (with their own minimum). */
export function newPasswordSchema(minLength = PASSWORD_MIN_LENGTH) {
  return z
    .string()
    .min(minLength, `must be at least ${minLength} characters`)
    .refine((p) => byteLength(p) <= PASSWORD_MAX_BYTES, tooLong);
}

export function hashPassword(password: string): Promise<string> {
  // Every caller validates with newPasswordSchema; this guard keeps a future caller from
  // storing a hash that silently ignores part of the password.
  if (byteLength(password) > PASSWORD_MAX_BYTES) throw new EddyError('bad_request', `password: ${tooLong}`);
  return bcrypt.hash(password, COST);
}

// A hash nobody's password matches, compared against when there is no user or no password, so
// "unknown email" takes as long as "wrong password" (no account enumeration by timing).
let noMatch: Promise<string> | undefined;

export async function verifyPassword(password: string, hash: string | null | undefined): Promise<boolean> {
  if (!hash) {
    noMatch ??= bcrypt.hash('\u0000no account\u0000', COST);
    await bcrypt.compare(password, await noMatch);
    return false;
  }
  return bcrypt.compare(password, hash);
}
