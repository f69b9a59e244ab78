import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { z } from 'zod';
import { EddyError } from '../errors';

// Passwords are hashed with argon2id (@node-rs/argon2: native, runs on libuv's thread pool, so a
// sign-in does not hold the event loop). Parameters: OWASP's first choice, 19 MiB, 2 passes, 1 lane.
// Algorithm is a `const enum` (no runtime object under isolatedModules): 2 is its Argon2id.
const ARGON2 = { algorithm: 2 as Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const ARGON2_PREFIX = `$argon2id$v=19$m=${ARGON2.memoryCost},t=${ARGON2.timeCost},p=${ARGON2.parallelism}$`;

// Hashes stored before argon2id are bcrypt ($2a$/$2b$/$2y$, pure JS on the main thread); they keep
// verifying and are replaced at the user's next sign-in (passwordHashNeedsUpgrade).
const isBcrypt = (h: string) => /^\$2[aby]\$/.test(h);

export const PASSWORD_MIN_LENGTH = 8;
// argon2id reads the whole password (bcrypt read only its first 72 bytes, hence the old limit);
// the cap only bounds the work one request can ask for. Counted in UTF-8: "é" is 2 bytes, emoji 4.
export const PASSWORD_MAX_BYTES = 1024;
/** What sign-in and "current password" fields accept: any password that may have been set. */
export const PASSWORD_MAX_LENGTH = PASSWORD_MAX_BYTES;

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');
const tooLong = `must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8`;

/** A password being set: sign-up, change-password, share links (with their own minimum). */
export function newPasswordSchema(minLength = PASSWORD_MIN_LENGTH) {
  return z
    .string()
    .min(minLength, `must be at least ${minLength} characters`)
    .refine((p) => byteLength(p) <= PASSWORD_MAX_BYTES, tooLong);
}

export async function hashPassword(password: string): Promise<string> {
  // Every caller validates with newPasswordSchema; this guard holds for a future caller too.
  if (byteLength(password) > PASSWORD_MAX_BYTES) throw new EddyError('bad_request', `password: ${tooLong}`);
  return argon2Hash(password, ARGON2);
}

// A hash nobody's password matches, compared against when there is no user or no password, so
// "unknown email" takes as long as "wrong password" (no account enumeration by timing).
let noMatch: Promise<string> | undefined;

export async function verifyPassword(password: string, hash: string | null | undefined): Promise<boolean> {
  if (!hash) {
    noMatch ??= argon2Hash('\u0000no account\u0000', ARGON2);
    await argon2Verify(await noMatch, password).catch(() => false);
    return false;
  }
  if (isBcrypt(hash)) return bcrypt.compare(password, hash);
  // A malformed stored hash is a wrong password, not a 500.
  return argon2Verify(hash, password).catch(() => false);
}

/**
 * Whether a hash that just verified `password` should be replaced by hashPassword(password):
 * bcrypt, or argon2id with other parameters. A bcrypt hash checked only the first 72 bytes, so a
 * longer password is not proven by it and its hash stays until the user changes the password.
 */
export function passwordHashNeedsUpgrade(hash: string, password: string): boolean {
  if (isBcrypt(hash)) return byteLength(password) <= 72;
  return !hash.startsWith(ARGON2_PREFIX);
}
