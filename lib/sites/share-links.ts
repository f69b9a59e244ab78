import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { db } from '../db/client';
import { ACCOUNT_LIMITS, createWithinLimit } from '../accounts/limits';
import type { MemberSite } from '../auth/access';
import { isUuid } from '../auth/access';
import { hashPassword, newPasswordSchema, verifyPassword } from '../auth/password';
import { authSecret } from '../auth/secret';
import { EddyError } from '../errors';

// Share links: a read-only public dashboard of one site, reached by an unguessable token.
// Revoking deletes the link, so the token stops working at once (sockets within the sweep
// interval). A password, when set, is checked once and remembered in an HMAC-signed cookie
// bound to the link and its password hash (changing the password logs everyone out).

export const createShareLinkSchema = z.object({
  label: z.string().trim().max(80).default(''),
  password: newPasswordSchema(4).optional(),
});

export function shareCookieName(linkId: string): string {
  return `eddy_share_${linkId.replace(/-/g, '')}`;
}

function unlockValue(link: { id: string; passwordHash: string | null }): string {
  return createHmac('sha256', authSecret())
    .update(`share-unlock:${link.id}:${link.passwordHash ?? ''}`)
    .digest('base64url');
}

export function isUnlocked(
  link: { id: string; passwordHash: string | null },
  cookieValue: string | undefined,
): boolean {
  if (!link.passwordHash) return true;
  if (!cookieValue) return false;
  const want = Buffer.from(unlockValue(link));
  const got = Buffer.from(cookieValue);
  return want.length === got.length && timingSafeEqual(want, got);
}

export async function createShareLink(
  site: MemberSite,
  createdById: string,
  input: z.infer<typeof createShareLinkSchema>,
) {
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  const max = ACCOUNT_LIMITS.shareLinksPerSite;
  const link = await createWithinLimit(
    `share-links:${site.id}`,
    max,
    `A site can have at most ${max} share links; revoke one first`,
    (tx) => tx.shareLink.count({ where: { siteId: site.id } }),
    (tx) =>
      tx.shareLink.create({
        data: {
          siteId: site.id,
          token: randomBytes(18).toString('base64url'),
          label: input.label,
          passwordHash,
          createdById,
        },
      }),
  );
  return publicShareLink(link);
}

export async function listShareLinks(site: MemberSite) {
  const links = await db().shareLink.findMany({ where: { siteId: site.id }, orderBy: { createdAt: 'asc' } });
  return links.map(publicShareLink);
}

/** Revokes one of the site's links; an id of another site's link is "not found". */
export async function revokeShareLink(site: MemberSite, linkId: string): Promise<void> {
  if (!isUuid(linkId)) throw new EddyError('not_found', 'Share link not found');
  const r = await db().shareLink.deleteMany({ where: { id: linkId, siteId: site.id } });
  if (r.count === 0) throw new EddyError('not_found', 'Share link not found');
}

function publicShareLink(l: {
  id: string;
  token: string;
  label: string;
  passwordHash: string | null;
  createdAt: Date;
}) {
  return {
    id: l.id,
    token: l.token,
    label: l.label,
    hasPassword: l.passwordHash !== null,
    createdAt: l.createdAt.toISOString(),
  };
}

const TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

/** The link and its site for a public token, or 404. */
export async function shareLinkByToken(token: string) {
  if (!TOKEN.test(token)) throw new EddyError('not_found', 'Share link not found');
  const link = await db().shareLink.findUnique({ where: { token }, include: { site: true } });
  if (!link) throw new EddyError('not_found', 'Share link not found');
  return link;
}

export type ResolvedShareLink = Awaited<ReturnType<typeof shareLinkByToken>>;

/** Checks a share password; returns the cookie value that unlocks the link. */
export async function unlockShareLink(link: ResolvedShareLink, password: string): Promise<string | null> {
  if (!link.passwordHash) return unlockValue(link);
  return (await verifyPassword(password, link.passwordHash)) ? unlockValue(link) : null;
}
