import { createHmac, timingSafeEqual } from 'node:crypto';
import { authSecret } from '../auth/secret';
import { DAY } from '@/lib/time';

// The download link of a background export: `<export id>.<expiry ms>.<HMAC-SHA256>` over the id,
// the requesting user and the expiry, keyed from AUTH_SECRET. The user is not in the link but in
// the MAC, so a link forwarded to someone else — or with its expiry pushed — does not verify; the
// download route also checks that the user still owns the site. Pure given the secret and `now`.

export const EXPORT_LINK_TTL_MS = 7 * DAY;

function mac(exportId: string, userId: string, expiresAt: number): Buffer {
  return createHmac('sha256', `eddy-export-link:${authSecret()}`).update(`${exportId}.${userId}.${expiresAt}`).digest();
}

export function signExportLink(exportId: string, userId: string, expiresAt: number): string {
  return `${exportId}.${expiresAt}.${mac(exportId, userId, expiresAt).toString('base64url')}`;
}

export type LinkCheck =
  { ok: true; exportId: string; expiresAt: number } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

export function verifyExportLink(token: string, userId: string, now: number): LinkCheck {
  const m = /^([0-9a-f-]{36})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  // The pattern's three groups always take part in a match.
  const [, exportId = '', exp = '', sig = ''] = m;
  const expiresAt = Number(exp);
  const want = mac(exportId, userId, expiresAt);
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'signature' };
  if (now >= expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, exportId, expiresAt };
}
