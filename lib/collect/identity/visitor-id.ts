import { createHash } from 'node:crypto';

// Cookieless visitor identity: hash(secret salt, site, client IP, user agent). The salt rotates
// (lib/collect/identity/salts.ts), so ids cannot be linked across periods, and the raw IP is
// hashed and forgotten — never stored or produced.

export function visitorId(salt: Buffer, siteId: string, ip: string, userAgent: string): string {
  return createHash('sha256')
    .update(salt)
    .update(`\u0000${siteId}\u0000${ip}\u0000${userAgent}`)
    .digest('hex')
    .slice(0, 32);
}
