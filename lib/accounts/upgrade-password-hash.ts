import { db } from '../db/client';
import { hashPassword, passwordHashNeedsUpgrade } from '../auth/password';

/**
 * After a successful sign-in: replaces a legacy (bcrypt) hash with an argon2id hash of the
 * password just verified. Only if the stored hash is still the one verified, so a password change
 * racing this sign-in wins. Sessions are not touched (same password, so no reason to revoke).
 */
export async function upgradePasswordHash(userId: string, verifiedHash: string, password: string): Promise<boolean> {
  if (!passwordHashNeedsUpgrade(verifiedHash, password)) return false;
  const { count } = await db().user.updateMany({
    where: { id: userId, passwordHash: verifiedHash },
    data: { passwordHash: await hashPassword(password) },
  });
  return count === 1;
}
