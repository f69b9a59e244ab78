import type pg from 'pg';
import type { LiveSnapshot } from '../live/snapshot';

// Freshness as the dashboard sees it: when the relay pushes a snapshot whose newest event is
// newer than the last one it pushed for that site, the push made that event visible, so
// push time − event time is one ack → visible sample (event time is the collect endpoint's clock).

export class PushFreshness {
  private lastLatest = new Map<string, number>();
  constructor(private readonly db: () => pg.Pool) {}

  record(s: LiveSnapshot, pushedAt: number): void {
    if (s.latestEventAt === null) return;
    const prev = this.lastLatest.get(s.siteId);
    this.lastLatest.set(s.siteId, s.latestEventAt);
    if (prev === undefined || s.latestEventAt <= prev) return;
    const delay = Math.max(0, pushedAt - s.latestEventAt);
    this.db()
      .query(`INSERT INTO freshness_samples (site_id, at, delay_ms, events, source) VALUES ($1, $2, $3, 1, 'push')`, [s.siteId, new Date(pushedAt), Math.min(delay, 2_147_483_647)])
      .catch(() => undefined);
  }
}
