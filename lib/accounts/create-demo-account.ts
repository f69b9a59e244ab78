import { randomBytes } from 'node:crypto';
import { db } from '../db/client';
import { hashPassword } from '../auth/password';
import { newSiteKey } from '../sites/site-key';
import { insertUser } from './create-user';

export interface DemoAccount {
  email: string;
  password: string;
  siteId: string;
  siteKey: string;
}

export const DEMO_EMAIL = 'demo@eddy.local';

/**
 * First run only: a demo user, team and site so a new install has something to look at.
 * The password is random per install (never a well-known default), returned once to be shown.
 */
export async function createDemoAccount(): Promise<DemoAccount | null> {
  if ((await db().user.count()) > 0) return null;
  const password = randomBytes(9).toString('base64url');
  const passwordHash = await hashPassword(password);
  // One transaction: the demo user is the install's first account, hence its operator.
  const site = await db().$transaction(async (tx) => {
    const user = await insertUser(tx, { email: DEMO_EMAIL, name: 'Demo', passwordHash });
    const team = await tx.team.create({
      data: { name: 'Demo team', memberships: { create: { userId: user.id, role: 'owner' } } },
    });
    return tx.site.create({
      data: {
        teamId: team.id,
        name: 'Demo site',
        domain: 'localhost',
        publicKey: newSiteKey(),
        allowedHostnames: ['localhost', '127.0.0.1'],
      },
    });
  });
  return { email: DEMO_EMAIL, password, siteId: site.id, siteKey: site.publicKey };
}
