import { createHash } from 'node:crypto';

// Cookieless visitor identity: a hash of a secret salt, the site, the client IP and the user
// agent. The salt changes daily, so ids cannot be linked across days, and the raw IP is never
// stored. (Stored, rotating salts with a grace period arrive with the collect issue.)

export function visitorId(input: { secret: string; siteId: string; ip: string; userAgent: string; now: number }): string {
  const day = new Date(input.now).toISOString().slice(0, 10);
  return createHash('sha256').update(`${input.secret}\u0000${day}\u0000${input.siteId}\u0000${input.ip}\u0000${input.userAgent}`).digest('hex').slice(0, 32);
}
