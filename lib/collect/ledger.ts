import type pg from 'pg';
import { MINUTE } from '@/lib/time';

// The ingestion ledger: per site and minute, how many events the collect endpoint received and
// what became of each. Counted in memory and flushed as increments every second, so a request
// never waits on it; a crash loses at most the last second of counts (never an event).
// Each row also keeps the receive time of the newest accepted event: the alerts job compares it
// with the newest event visible on the dashboard to tell that a site's events are waiting.

export const NIL_SITE = '00000000-0000-0000-0000-000000000000';

export const outcomes = ['accepted', 'bot', 'spam', 'hostname', 'rate_limited', 'unknown_site', 'malformed'] as const;
export type Outcome = (typeof outcomes)[number];
/** Where an event came in: the tracker (POST /api/collect) or the events API (POST /api/v1/events). */
export type LedgerSource = 'tracker' | 'api';

const column: Record<Outcome, string> = {
  accepted: 'accepted',
  bot: 'dropped_bot',
  spam: 'dropped_spam',
  hostname: 'dropped_hostname',
  rate_limited: 'dropped_rate_limited',
  unknown_site: 'dropped_unknown_site',
  malformed: 'malformed',
};

export class IngestionLedger {
  private pending = new Map<
    string,
    {
      siteId: string;
      minute: number;
      counts: Record<Outcome, number>;
      receivedApi: number;
      lastAcceptedAt: number | null;
    }
  >();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly db: pg.Pool) {}

  record(siteId: string | null, at: number, outcome: Outcome, n = 1, source: LedgerSource = 'tracker'): void {
    const entry = this.entry(siteId ?? NIL_SITE, at);
    entry.counts[outcome] += n;
    if (source === 'api') entry.receivedApi += n;
    if (outcome === 'accepted' && n > 0) entry.lastAcceptedAt = Math.max(entry.lastAcceptedAt ?? at, at);
  }

  private entry(site: string, at: number) {
    const minute = Math.floor(at / MINUTE) * MINUTE;
    const key = `${site}|${minute}`;
    let entry = this.pending.get(key);
    if (!entry) {
      entry = {
        siteId: site,
        minute,
        counts: Object.fromEntries(outcomes.map((o) => [o, 0])) as Record<Outcome, number>,
        receivedApi: 0,
        lastAcceptedAt: null,
      };
      this.pending.set(key, entry);
    }
    return entry;
  }

  start(intervalMs = 1000): void {
    this.timer ??= setInterval(
      () => void this.flush().catch((e: unknown) => console.error('[ledger] flush failed', e)),
      intervalMs,
    );
    this.timer.unref();
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow());
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    if (this.pending.size === 0) return;
    // In (site, minute) order: the web processes' flushes and the jobs' upserts share these rows,
    // and two statements taking them in different orders would deadlock.
    const batch = [...this.pending.values()].sort((x, y) =>
      x.siteId < y.siteId ? -1 : x.siteId > y.siteId ? 1 : x.minute - y.minute,
    );
    this.pending = new Map();
    const cols = outcomes.map((o) => column[o]);
    const arrays = outcomes.map((o) => batch.map((b) => b.counts[o]));
    try {
      await this.db.query(
        `INSERT INTO ingestion_ledger (site_id, minute, last_accepted_at, received_api, received, ${cols.join(', ')})
         SELECT u.site_id, u.minute, u.last_accepted_at, u.received_api, ${cols.map((c) => `u.${c}`).join(' + ')}, ${cols.map((c) => `u.${c}`).join(', ')}
         FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::int[], ${cols.map((_, i) => `$${i + 5}::int[]`).join(', ')}) AS u(site_id, minute, last_accepted_at, received_api, ${cols.join(', ')})
         ON CONFLICT (site_id, minute) DO UPDATE SET received = ingestion_ledger.received + EXCLUDED.received,
           received_api = ingestion_ledger.received_api + EXCLUDED.received_api,
           last_accepted_at = GREATEST(ingestion_ledger.last_accepted_at, EXCLUDED.last_accepted_at),
           ${cols.map((c) => `${c} = ingestion_ledger.${c} + EXCLUDED.${c}`).join(', ')}`,
        [
          batch.map((b) => b.siteId),
          batch.map((b) => new Date(b.minute).toISOString()),
          batch.map((b) => (b.lastAcceptedAt === null ? null : new Date(b.lastAcceptedAt).toISOString())),
          batch.map((b) => b.receivedApi),
          ...arrays,
        ],
      );
    } catch (e) {
      // Put the counts back so the next flush retries them.
      for (const b of batch) {
        const entry = this.entry(b.siteId, b.minute);
        for (const o of outcomes) entry.counts[o] += b.counts[o];
        entry.receivedApi += b.receivedApi;
        if (b.lastAcceptedAt !== null)
          entry.lastAcceptedAt = Math.max(entry.lastAcceptedAt ?? b.lastAcceptedAt, b.lastAcceptedAt);
      }
      throw e;
    }
  }
}
