import { db } from '../db/client';

// Sessions are JWTs, so "revoking" one means moving the user's session version: every check
// (current-user.ts for pages and routes, live-access.ts for sockets) compares the token's version
// with the database, so all of the user's sessions on every device stop working at once.

/**
 * Sign-out: ends the user's sessions, but only when the signing-out token is still current. An
 * already-revoked cookie (e.g. a copy someone kept) cannot be replayed against sign-out to keep
 * signing the real user out of their fresh session.
 */
export async function revokeSessionsOnSignOut(userId: string, tokenVersion: number): Promise<boolean> {
  const r = await db().user.updateMany({
    where: { id: userId, sessionVersion: tokenVersion },
    data: { sessionVersion: { increment: 1 } },
  });
  return r.count > 0;
}
