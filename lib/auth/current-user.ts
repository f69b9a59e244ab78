import { getServerSession } from 'next-auth';
import { decode } from 'next-auth/jwt';
import { db } from '../db/client';
import { EddyError } from '../errors';
import { authOptions } from './options';
import { authSecret } from './secret';

export interface CurrentUser {
  id: string;
  email: string;
  name: string | null;
  /** The session version the token carried (equal to the database's, or the user would be null). */
  sessionVersion: number;
  hasPassword: boolean;
  /** Runs this install (sees the pipeline page); see lib/pipeline/operators.ts. */
  isOperator: boolean;
  /** When this session signed in (ms), if the token says; older tokens do not. */
  signedInAt?: number;
}

/** The signed-in user, or null. A token whose session version is stale counts as signed out. */
export async function currentUser(): Promise<CurrentUser | null> {
  const session = (await getServerSession(authOptions())) as { uid?: string; sv?: number; at?: number } | null;
  const user = session?.uid ? await userIfCurrent(session.uid, session.sv ?? 0) : null;
  return user && typeof session?.at === 'number' ? { ...user, signedInAt: session.at } : user;
}

/** For route handlers: the signed-in user or a 401. */
export async function requireUser(): Promise<CurrentUser> {
  const user = await currentUser();
  if (!user) throw new EddyError('unauthorized', 'Sign in first');
  return user;
}

/** Same check for a raw session cookie (the Socket.IO handshake has no Next.js request). */
export async function userFromSessionToken(token: string | undefined): Promise<CurrentUser | null> {
  if (!token) return null;
  const jwt = await decode({ token, secret: authSecret() }).catch(() => null);
  const uid = typeof jwt?.uid === 'string' ? jwt.uid : null;
  return uid ? userIfCurrent(uid, typeof jwt?.sv === 'number' ? jwt.sv : 0) : null;
}

async function userIfCurrent(id: string, sessionVersion: number): Promise<CurrentUser | null> {
  const user = await db().user.findUnique({
    where: { id },
    select: { id: true, email: true, name: true, sessionVersion: true, passwordHash: true, isOperator: true },
  });
  if (!user || user.sessionVersion !== sessionVersion) return null;
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    sessionVersion: user.sessionVersion,
    hasPassword: user.passwordHash !== null,
    isOperator: user.isOperator,
  };
}

export const SESSION_COOKIES = ['__Secure-next-auth.session-token', 'next-auth.session-token'];
