import { randomBytes } from 'node:crypto';

/** A public site key for the snippet: unguessable so strangers cannot pollute a site's data. */
export function newSiteKey(): string {
  return `s_${randomBytes(12).toString('base64url')}`;
}
