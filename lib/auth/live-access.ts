import { pool } from '../db/client';

// Re-checks the access of open Socket.IO connections in bulk (one pair of queries per sweep,
// however many sockets): a user whose session version moved is signed out; a membership that
// ended, or a share link that was revoked or re-passworded, loses its room.

export interface UserGrant {
  userId: string;
  sessionVersion: number;
  siteIds: string[];
}

export interface ShareGrant {
  linkId: string;
  siteId: string;
  passwordHash: string | null;
}

export interface AccessVerdict {
  /** Users whose session is no longer valid. */
  signedOut: Set<string>;
  /** `${userId}|${siteId}` pairs still allowed. */
  memberOf: Set<string>;
  /** Share link ids still valid (same site, same password). */
  validLinks: Set<string>;
}

export async function checkLiveAccess(users: UserGrant[], shares: ShareGrant[]): Promise<AccessVerdict> {
  const p = pool();
  const verdict: AccessVerdict = { signedOut: new Set(), memberOf: new Set(), validLinks: new Set() };
  if (users.length) {
    const ids = [...new Set(users.map((u) => u.userId))];
    const versions = await p.query<{ id: string; session_version: number }>(
      'SELECT id, session_version FROM users WHERE id = ANY($1::uuid[])',
      [ids],
    );
    const current = new Map(versions.rows.map((r) => [r.id, r.session_version]));
    for (const u of users) if (current.get(u.userId) !== u.sessionVersion) verdict.signedOut.add(u.userId);
    const pairs = users.flatMap((u) => u.siteIds.map((s) => [u.userId, s] as const));
    if (pairs.length) {
      const ok = await p.query<{ user_id: string; site_id: string }>(
        `SELECT m.user_id, s.id AS site_id
           FROM unnest($1::uuid[], $2::uuid[]) AS want(user_id, site_id)
           JOIN sites s ON s.id = want.site_id
           JOIN memberships m ON m.team_id = s.team_id AND m.user_id = want.user_id`,
        [pairs.map((x) => x[0]), pairs.map((x) => x[1])],
      );
      for (const r of ok.rows) verdict.memberOf.add(`${r.user_id}|${r.site_id}`);
    }
  }
  if (shares.length) {
    const links = await p.query<{ id: string; site_id: string; password_hash: string | null }>(
      'SELECT id, site_id, password_hash FROM share_links WHERE id = ANY($1::uuid[])',
      [[...new Set(shares.map((s) => s.linkId))]],
    );
    const byId = new Map(links.rows.map((r) => [r.id, r]));
    for (const s of shares) {
      const l = byId.get(s.linkId);
      if (l && l.site_id === s.siteId && l.password_hash === s.passwordHash) verdict.validLinks.add(s.linkId);
    }
  }
  return verdict;
}
