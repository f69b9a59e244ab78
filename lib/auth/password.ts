import bcrypt from 'bcryptjs';

const COST = 12;

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 200;

export function hashPassword(password: string): Promise<string> {
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
