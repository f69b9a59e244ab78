import type { Server, Socket } from 'socket.io';
import { siteForMember } from '@/lib/auth/access';
import { SESSION_COOKIES, userFromSessionToken, type CurrentUser } from '@/lib/auth/current-user';
import { liveRoom } from '@/lib/live/publish';
import { recentMinuteCounts } from '@/lib/live/recent-minutes';

// Socket.IO connections authenticate with the same session cookie as the pages, and a `join`
// for a site only succeeds after the same membership check the pages use.

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

export function attachLiveSockets(io: Server): void {
  io.use((socket, next) => {
    const header = socket.handshake.headers.cookie;
    const token = SESSION_COOKIES.map((n) => cookie(header, n)).find(Boolean);
    userFromSessionToken(token)
      .then((user) => {
        if (!user) return next(new Error('unauthorized'));
        socket.data.user = user;
        next();
      })
      .catch(() => next(new Error('unauthorized')));
  });

  io.on('connection', (socket: Socket) => {
    socket.on('join', async (siteId: unknown, ack?: (r: { ok: boolean; minutes?: { minute: number; pageviews: number }[] }) => void) => {
      const user = socket.data.user as CurrentUser;
      try {
        if (typeof siteId !== 'string') throw new Error('bad site id');
        const site = await siteForMember(user.id, siteId);
        await socket.join(liveRoom(site.id));
        ack?.({ ok: true, minutes: await recentMinuteCounts(site.id, Date.now()) });
      } catch {
        ack?.({ ok: false });
      }
    });
  });
}
