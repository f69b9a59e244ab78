import { z } from 'zod';
import { db } from '../db/client';
import type { CurrentUser } from '../auth/current-user';
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, verifyPassword } from '../auth/password';
import { EddyError } from '../errors';

export const changePasswordSchema = z.object({
  // Absent only for accounts that have no password yet (OAuth sign-up).
  currentPassword: z.string().max(PASSWORD_MAX_LENGTH).optional(),
  newPassword: z.string().min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`).max(PASSWORD_MAX_LENGTH),
});

/**
 * Sets a new password and bumps the session version: every session of this user, on every
 * device, stops working on its next request (the caller signs in again with the new password).
 */
export async function changePassword(user: CurrentUser, input: z.infer<typeof changePasswordSchema>): Promise<void> {
  const row = await db().user.findUniqueOrThrow({ where: { id: user.id }, select: { passwordHash: true } });
  if (row.passwordHash !== null && !(await verifyPassword(input.currentPassword ?? '', row.passwordHash))) {
    throw new EddyError('bad_request', 'currentPassword: is not correct');
  }
  await db().user.update({
    where: { id: user.id },
    data: { passwordHash: await hashPassword(input.newPassword), sessionVersion: { increment: 1 } },
  });
}
