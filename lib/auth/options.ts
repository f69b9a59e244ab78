import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import GitHubProvider from 'next-auth/providers/github';
import GoogleProvider from 'next-auth/providers/google';
import { z } from 'zod';
import { db } from '../db/client';
import { env } from '../env';
import { requestIp } from '../http/client-ip';
import { safeAuthRedirect } from '../http/safe-redirect';
import { oauthSignIn } from '../accounts/oauth-sign-in';
import { attemptSucceeded, beginAttempt } from './attempts';
import { upgradePasswordHash } from '../accounts/upgrade-password-hash';
import { PASSWORD_MAX_LENGTH, verifyPassword } from './password';
import { revokeSessionsOnSignOut } from './revoke-sessions';
import { authSecret } from './secret';

// next-auth with email + password, plus GitHub/Google when their settings are present.
// Sessions are JWTs carrying the user's id and session version; every check compares the
// version with the database (see current-user.ts), so bumping it revokes all of a user's
// sessions — sign-out does (events.signOut), as do a password change and removal from a team.
// Sign-in is rate limited per IP and per account in PostgreSQL (attempts.ts); every failure
// — unknown email, wrong password, throttled — looks the same to the client.

const credentialsSchema = z.object({ email: z.email().max(320), password: z.string().min(1).max(PASSWORD_MAX_LENGTH) });

export type OAuthProviderId = 'github' | 'google';

/** The OAuth providers this installation offers (both settings of a provider must be set). */
export function enabledOAuthProviders(): OAuthProviderId[] {
  const e = env();
  const out: OAuthProviderId[] = [];
  if (e.GITHUB_ID && e.GITHUB_SECRET) out.push('github');
  if (e.GOOGLE_ID && e.GOOGLE_SECRET) out.push('google');
  return out;
}

export function authOptions(): NextAuthOptions {
  const e = env();
  const providers: NextAuthOptions['providers'] = [
    CredentialsProvider({
      name: 'Email',
      credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
      async authorize(raw, req) {
        const parsed = credentialsSchema.safeParse(raw);
        if (!parsed.success) return null;
        const email = parsed.data.email.trim().toLowerCase();
        const attempt = await beginAttempt('login', requestIp(req?.headers ?? {}), email);
        if (!attempt.allowed) return null;
        const user = await db().user.findUnique({ where: { email } });
        if (!(await verifyPassword(parsed.data.password, user?.passwordHash))) return null;
        await attemptSucceeded('login', attempt, email);
        // bcrypt hashes (from before argon2id) become argon2id now that we hold the password; a
        // failure only delays that to the next sign-in, so it must not fail this one.
        await upgradePasswordHash(user!.id, user!.passwordHash!, parsed.data.password).catch((err: unknown) =>
          console.error('password hash upgrade failed:', err),
        );
        return { id: user!.id, email: user!.email, name: user!.name, sessionVersion: user!.sessionVersion };
      },
    }),
  ];
  if (e.GITHUB_ID && e.GITHUB_SECRET)
    providers.push(GitHubProvider({ clientId: e.GITHUB_ID, clientSecret: e.GITHUB_SECRET }));
  if (e.GOOGLE_ID && e.GOOGLE_SECRET)
    providers.push(GoogleProvider({ clientId: e.GOOGLE_ID, clientSecret: e.GOOGLE_SECRET }));

  return {
    secret: authSecret(),
    session: { strategy: 'jwt', maxAge: 30 * 24 * 3600 },
    pages: { signIn: '/login', error: '/login' },
    providers,
    callbacks: {
      // Every post-sign-in/out redirect (OAuth callbackUrl cookie included) stays on our origin.
      redirect({ url, baseUrl }) {
        return safeAuthRedirect(url, baseUrl);
      },
      async signIn({ user, account, profile }) {
        if (!account || account.provider === 'credentials') return true;
        // Google says whether the address is verified; GitHub only returns verified primary emails.
        const verified =
          account.provider !== 'google' ||
          (profile as { email_verified?: boolean } | undefined)?.email_verified === true;
        const result = await oauthSignIn({
          provider: account.provider,
          providerAccountId: account.providerAccountId,
          email: verified ? (user.email ?? null) : null,
          name: user.name ?? null,
        });
        return result.ok
          ? true
          : `/login?error=${result.reason === 'email_taken' ? 'OAuthAccountNotLinked' : 'OAuthNoEmail'}`;
      },
      async jwt({ token, user, account }) {
        if (account && account.provider !== 'credentials') {
          // The identity was linked (or created) by the signIn callback above.
          const link = await db().oAuthAccount.findUnique({
            where: {
              provider_providerAccountId: { provider: account.provider, providerAccountId: account.providerAccountId },
            },
            include: { user: { select: { id: true, sessionVersion: true } } },
          });
          if (link) {
            token.uid = link.user.id;
            token.sv = link.user.sessionVersion;
            token.at = Date.now();
          }
        } else if (user) {
          token.uid = user.id;
          token.sv = (user as { sessionVersion?: number }).sessionVersion ?? 0;
          token.at = Date.now();
        }
        return token;
      },
      session({ session, token }) {
        // at: when this session signed in (account deletion asks an account without a password for a recent one).
        return { ...session, uid: token.uid, sv: token.sv, at: token.at };
      },
    },
    events: {
      // Clearing the cookie is not enough: a copy of it would stay valid for 30 days. Bumping
      // the session version revokes it server-side (on every device — one version per user).
      async signOut({ token }) {
        if (typeof token?.uid === 'string' && typeof token.sv === 'number')
          await revokeSessionsOnSignOut(token.uid, token.sv);
      },
    },
  };
}
