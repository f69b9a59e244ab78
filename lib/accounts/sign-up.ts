import { z } from 'zod';
import { db } from '../db/client';
import { beginAttempt } from '../auth/attempts';
import { hashPassword, newPasswordSchema } from '../auth/password';
import { EddyError } from '../errors';
import { insertUser } from './create-user';

export const signUpSchema = z.object({
  name: z.string().trim().max(100).optional(),
  email: z
    .email()
    .max(320)
    .transform((e) => e.trim().toLowerCase()),
  password: newPasswordSchema(),
});
export type SignUpInput = z.infer<typeof signUpSchema>;

/** "Ada's team", or the email's local part when there is no name. */
export function personalTeamName(name: string | null | undefined, email: string): string {
  const who = name?.trim() || email.split('@')[0]!;
  return `${who.slice(0, 60)}'s team`;
}

/** Creates a user with a personal team they own. Sign-ups are rate-limited per IP. */
export async function signUp(input: SignUpInput, ip: string): Promise<{ userId: string; teamId: string }> {
  const attempt = await beginAttempt('signup', ip, null);
  if (!attempt.allowed)
    throw new EddyError('rate_limited', 'Too many sign-ups from your network; try again later', { retryAfter: 600 });
  const passwordHash = await hashPassword(input.password);
  try {
    const result = await db().$transaction(async (tx) => {
      const user = await insertUser(tx, { email: input.email, name: input.name || null, passwordHash });
      const team = await tx.team.create({
        data: {
          name: personalTeamName(input.name, input.email),
          memberships: { create: { userId: user.id, role: 'owner' } },
        },
      });
      return { userId: user.id, teamId: team.id };
    });
    // Successful sign-ups keep counting: the limit is on accounts created per IP.
    return result;
  } catch (e) {
    if ((e as { code?: string }).code === 'P2002')
      throw new EddyError('bad_request', 'email: an account with this email already exists — sign in instead');
    throw e;
  }
}
