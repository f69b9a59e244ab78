import { encode } from 'next-auth/jwt';
import { io, type Socket } from 'socket.io-client';
import type { LiveSnapshot } from '@/lib/live/snapshot';
import { sleep } from './util';

// A dashboard's live connection, as the browser makes it: Socket.IO with the next-auth session
// cookie, `join` per site. Stays connected through the whole scenario (the web process is killed
// and restarted under it; socket.io reconnects and re-joins), and records every pushed snapshot
// and every push for a site outside its own team's (tenant isolation).

type JoinAck = { ok: boolean; snapshot?: LiveSnapshot };

export class LiveClient {
  private socket?: Socket;
  private cookie = '';
  readonly pushes = new Map<string, number>();
  /** Pushes for sites that are not this user's team's, by site. */
  readonly foreignPushes = new Map<string, number>();
  private ownSites = new Set<string>();
  reconnects = 0;

  constructor(
    private readonly url: () => string,
    private readonly secret: string,
    private readonly userId: string,
    readonly label: string,
  ) {}

  /** Connects and joins `sites` (the user's own team's) on every (re)connect. */
  async connect(sites: string[]): Promise<void> {
    this.ownSites = new Set(sites);
    this.cookie = `next-auth.session-token=${await encode({ token: { uid: this.userId, sv: 0 }, secret: this.secret })}`;
    const socket = io(this.url(), {
      transports: ['websocket'],
      extraHeaders: { cookie: this.cookie },
      reconnectionDelay: 300,
      reconnectionDelayMax: 2000,
      timeout: 5000,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.reconnects++;
      for (const s of sites) void this.join(s).catch(() => undefined);
    });
    socket.on('live', (snap: LiveSnapshot) => {
      if (!this.ownSites.has(snap.siteId))
        this.foreignPushes.set(snap.siteId, (this.foreignPushes.get(snap.siteId) ?? 0) + 1);
      this.pushes.set(snap.siteId, (this.pushes.get(snap.siteId) ?? 0) + 1);
    });
    await this.connected(30_000);
  }

  private async connected(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.socket?.connected) {
      if (Date.now() > until) throw new Error(`${this.label}: live socket did not connect within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  async join(siteId: string): Promise<JoinAck> {
    return (await this.socket!.timeout(20_000).emitWithAck('join', siteId)) as JoinAck;
  }

  /** Drops the connection, connects again and returns the snapshot `join` answers with. */
  async snapshotAfterReconnect(siteId: string): Promise<LiveSnapshot> {
    this.socket!.disconnect();
    this.socket!.connect();
    await this.connected(30_000);
    for (let i = 0; ; i++) {
      try {
        const ack = await this.join(siteId);
        if (!ack.ok || !ack.snapshot) throw new Error(`${this.label}: join ${siteId} refused after reconnect`);
        return ack.snapshot;
      } catch (e) {
        if (i >= 5) throw e;
        await sleep(1000);
      }
    }
  }

  close(): void {
    this.socket?.disconnect();
  }
}
