import type { Prisma } from '../db/generated/client';
import { db } from '../db/client';
import { EddyError } from '../errors';

// Per-account caps: how much one signed-up user can make Eddy store and serve. Generous for real
// use, small enough that a script with one free account cannot fill the database, the workers'
// dimension table or the invite mailer. One place, documented in docs/SECURITY.md and the README.

export const ACCOUNT_LIMITS = {
  /** Teams a user owns (their personal team included); joining other teams is not capped. */
  teamsOwnedPerUser: 10,
  /** Sites in one team. */
  sitesPerTeam: 50,
  /** Share links of one site. */
  shareLinksPerSite: 20,
  /** Invitations of one team not yet accepted and not expired. */
  pendingInvitesPerTeam: 50,
} as const;

type Tx = Prisma.TransactionClient;

/**
 * Creates something only while `count` is below `max`. Concurrent creates for the same `scope`
 * queue on a transaction-scoped advisory lock, so two requests racing at max - 1 cannot both
 * pass the count. Over the cap: 403 `limit_reached` with `message`.
 */
export async function createWithinLimit<T>(
  scope: string,
  max: number,
  message: string,
  count: (tx: Tx) => Promise<number>,
  create: (tx: Tx) => Promise<T>,
): Promise<T> {
  return db().$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`limit:${scope}`}, 0))`;
    if ((await count(tx)) >= max) throw new EddyError('limit_reached', message);
    return create(tx);
  });
}
