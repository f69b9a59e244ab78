import { z } from 'zod';
import { db } from '../db/client';
import { attemptSucceeded, beginAttempt, retryAfterSeconds } from '../auth/attempts';
import type { CurrentUser } from '../auth/current-user';
import { hashPassword, newPasswordSchema, PASSWORD_MAX_LENGTH, verifyPassword } from '../auth/password';
import { EddyError } from '../errors';

export const changePasswordSchema = z.object({
  // Absent only for accounts that have no password yet (OAuth sign-up).
  currentPassword: z.string().max(PASSWORD_MAX_LENGTH).optional(),
  newPassword: newPasswordSchema(),
});

/**
 * Sets a new password and bumps the session version: every session of this user, on every
 * device, stops working on its next request (the caller signs in again with the new password).
 * Wrong current passwords count against a per-account and per-IP limit (attempts.ts); past it,
 * 429 with Retry-After, and the password is not even checked.
 */
export async function changePassword(
  user: CurrentUser,
  input: z.infer<typeof changePasswordSchema>,
  ip: string,
): Promise<void> {
  const row = await db().user.findUniqueOrThrow({ where: { id: user.id }, select: { passwordHash: true } });
  if (row.passwordHash !== null) {
    const attempt = await beginAttempt('password', ip, user.id);
    if (!attempt.allowed) {
      throw new EddyError('rate_limited', 'Too many wrong current passwords; try again later', {
        retryAfter: retryAfterSeconds('password'),
      });
    }
    if (!(await verifyPassword(input.currentPassword ?? '', row.passwordHash)))
      throw new EddyError('bad_request', 'currentPassword: is not correct');
    await attemptSucceeded('password', attempt, user.id);
  }
  await db().user.update({
    where: { id: user.id },
    data: { passwordHash: await hashPassword(input.newPassword), sessionVersion: { increment: 1 } },
  });
}
