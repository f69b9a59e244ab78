import { db } from '../db/client';
import { insertUser } from './create-user';
import { personalTeamName } from './sign-up';

// Sign-in through GitHub or Google. A known provider identity signs in its user; a new one
// creates a user with a personal team. An identity whose email already belongs to a password
// account is refused rather than silently linked: whoever controls an OAuth account with that
// address must not take over the existing account.

export interface OAuthProfile {
  provider: string;
  providerAccountId: string;
  email: string | null;
  name: string | null;
}

export type OAuthResult =
  { ok: true; userId: string; sessionVersion: number } | { ok: false; reason: 'no_email' | 'email_taken' };

export async function oauthSignIn(p: OAuthProfile): Promise<OAuthResult> {
  const linked = await db().oAuthAccount.findUnique({
    where: { provider_providerAccountId: { provider: p.provider, providerAccountId: p.providerAccountId } },
    include: { user: { select: { id: true, sessionVersion: true } } },
  });
  if (linked) return { ok: true, userId: linked.user.id, sessionVersion: linked.user.sessionVersion };
  if (!p.email) return { ok: false, reason: 'no_email' };
  const email = p.email.trim().toLowerCase();
  if (await db().user.findUnique({ where: { email }, select: { id: true } }))
    return { ok: false, reason: 'email_taken' };
  const user = await db().$transaction(async (tx) => {
    const u = await insertUser(tx, {
      email,
      name: p.name,
      passwordHash: null,
      oauthAccounts: { create: { provider: p.provider, providerAccountId: p.providerAccountId } },
    });
    await tx.team.create({
      data: { name: personalTeamName(p.name, email), memberships: { create: { userId: u.id, role: 'owner' } } },
    });
    return u;
  });
  return { ok: true, userId: user.id, sessionVersion: user.sessionVersion };
}
