import type pg from 'pg';
import type { LiveSnapshot } from '../live/snapshot';

// Freshness as a watched dashboard sees it: when the relay pushes a snapshot whose newest event
// was received later than the newest one it pushed before for that site, the push made that event
// visible, so push time − its receive time (the collect endpoint's clock) is one ack → visible
// sample. Receive time, not event time: event time is corrected by the client's reported age.

export class PushFreshness {
  private lastReceived = new Map<string, number>();
  constructor(private readonly db: () => pg.Pool) {}

  record(s: LiveSnapshot, pushedAt: number): void {
    if (s.latestReceivedAt === null) return;
    const prev = this.lastReceived.get(s.siteId);
    this.lastReceived.set(s.siteId, s.latestReceivedAt);
    if (prev === undefined || s.latestReceivedAt <= prev) return;
    const delay = Math.max(0, pushedAt - s.latestReceivedAt);
    this.db()
      .query(`INSERT INTO freshness_samples (site_id, at, delay_ms, events, source) VALUES ($1, $2, $3, 1, 'push')`, [
        s.siteId,
        new Date(pushedAt),
        Math.min(delay, 2_147_483_647),
      ])
      .catch(() => undefined);
  }
}
