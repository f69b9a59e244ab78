import type { Server, Socket } from 'socket.io';
import { siteForMember } from '@/lib/auth/access';
import { SESSION_COOKIES, userFromSessionToken } from '@/lib/auth/current-user';
import { checkLiveAccess, type ShareGrant, type UserGrant } from '@/lib/auth/live-access';
import { liveRoom } from '@/lib/live/publish';
import { liveSnapshot, type LiveSnapshot } from '@/lib/live/snapshot';
import { isUnlocked, shareCookieName, shareLinkByToken } from '@/lib/sites/share-links';

// Socket.IO connections authenticate like the pages: with the session cookie, or — for a public
// share link's dashboard — with the link's token (plus its unlock cookie when it has a
// password). `join` runs the same data-access check as the routes, and answers `{ok: false}`
// without a snapshot for anything the caller may not see. Access is re-checked for every open
// socket every LIVE_ACCESS_SWEEP_MS: removal from a team, a password change (session version)
// or a revoked share link takes the socket out of the room within that bound.

export const LIVE_ACCESS_SWEEP_MS = 5000;

type Viewer =
  | { kind: 'user'; userId: string; sessionVersion: number }
  | { kind: 'share'; linkId: string; siteId: string; passwordHash: string | null };

type JoinAck = (r: { ok: boolean; snapshot?: LiveSnapshot }) => void;

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

async function authenticate(socket: Socket): Promise<Viewer | null> {
  const header = socket.handshake.headers.cookie;
  const share = (socket.handshake.auth as { share?: unknown } | undefined)?.share;
  if (typeof share === 'string') {
    const link = await shareLinkByToken(share).catch(() => null);
    if (!link || !isUnlocked(link, cookie(header, shareCookieName(link.id)))) return null;
    return { kind: 'share', linkId: link.id, siteId: link.siteId, passwordHash: link.passwordHash };
  }
  const token = SESSION_COOKIES.map((n) => cookie(header, n)).find(Boolean);
  const user = await userFromSessionToken(token);
  return user ? { kind: 'user', userId: user.id, sessionVersion: user.sessionVersion } : null;
}

/** The site id a viewer may join, or null. */
async function allowedSite(viewer: Viewer, siteId: unknown): Promise<string | null> {
  if (typeof siteId !== 'string') return null;
  if (viewer.kind === 'share') return siteId === viewer.siteId ? siteId : null;
  const site = await siteForMember(viewer.userId, siteId).catch(() => null);
  return site?.id ?? null;
}

function joinedSites(socket: Socket): string[] {
  return [...socket.rooms].filter((r) => r.startsWith('site:')).map((r) => r.slice('site:'.length));
}

export function attachLiveSockets(io: Server): () => void {
  io.use((socket, next) => {
    authenticate(socket)
      .then((viewer) => {
        if (!viewer) return next(new Error('unauthorized'));
        socket.data.viewer = viewer;
        next();
      })
      .catch(() => next(new Error('unauthorized')));
  });

  io.on('connection', (socket: Socket) => {
    socket.on('join', async (siteId: unknown, ack?: JoinAck) => {
      const reply: JoinAck = typeof ack === 'function' ? ack : () => undefined;
      try {
        const allowed = await allowedSite(socket.data.viewer as Viewer, siteId);
        if (!allowed) return reply({ ok: false });
        await socket.join(liveRoom(allowed));
        reply({ ok: true, snapshot: await liveSnapshot(allowed, Date.now()) });
      } catch {
        reply({ ok: false });
      }
    });
    socket.on('leave', async (siteId: unknown) => {
      if (typeof siteId === 'string') await socket.leave(liveRoom(siteId));
    });
  });

  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      const sockets = [...io.of('/').sockets.values()];
      const users: UserGrant[] = [];
      const shares: ShareGrant[] = [];
      for (const s of sockets) {
        const v = s.data.viewer as Viewer | undefined;
        if (v?.kind === 'user')
          users.push({ userId: v.userId, sessionVersion: v.sessionVersion, siteIds: joinedSites(s) });
        else if (v?.kind === 'share') shares.push(v);
      }
      if (!users.length && !shares.length) return;
      const verdict = await checkLiveAccess(users, shares);
      for (const s of sockets) {
        const v = s.data.viewer as Viewer | undefined;
        if (!v) continue;
        if (v.kind === 'user' && verdict.signedOut.has(v.userId)) {
          s.emit('revoked', { reason: 'signed-out' });
          s.disconnect(true);
          continue;
        }
        if (v.kind === 'share' && !verdict.validLinks.has(v.linkId)) {
          s.emit('revoked', { reason: 'link-revoked' });
          s.disconnect(true);
          continue;
        }
        if (v.kind === 'user') {
          for (const siteId of joinedSites(s)) {
            if (verdict.memberOf.has(`${v.userId}|${siteId}`)) continue;
            await s.leave(liveRoom(siteId));
            s.emit('revoked', { reason: 'no-access', siteId });
          }
        }
      }
    } catch (e) {
      console.error(`[web] live access sweep failed: ${(e as Error).message}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), LIVE_ACCESS_SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
