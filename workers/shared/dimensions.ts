import type pg from 'pg';
import { compilePathPattern, patternsWithinSiteLimits, type PathPattern } from '@/lib/analytics/path-pattern';
import { DimensionTable, type DeepReadonly } from '@/lib/stream';
import { MINUTE } from '@/lib/time';

// The workers' side input: per-site settings the jobs enrich with (content groups, timezone,
// session gap). Loaded into an immutable, versioned snapshot and swapped atomically on a cadence
// (DIMENSION_REFRESH_MS); a batch reads one snapshot from start to end. The version goes into
// every checkpoint. It only increases when the data actually changed.

export interface SiteDimensions {
  timezone: string;
  sessionGapMs: number;
  /** Ordered: the first pattern that matches a path names its group. */
  contentGroups: { name: string; pattern: PathPattern }[];
}

export interface Dimensions {
  sites: Map<string, SiteDimensions>;
  fingerprint: string;
}

export const DEFAULT_SITE: SiteDimensions = { timezone: 'UTC', sessionGapMs: 30 * MINUTE, contentGroups: [] };

/** A site the table does not know is looked up again at most this often (ensureKnown). */
export const UNKNOWN_SITE_RECHECK_MS = 30_000;
const MAX_ASKED = 10_000;

// Patterns are compiled to linear-time matchers, never to a backtracking RegExp: the admin of one
// site writes the pattern, anyone writes the path, and this runs per event for every tenant on
// the partition (lib/analytics/path-pattern.ts).
export function contentGroupOf(site: DeepReadonly<SiteDimensions> | SiteDimensions | undefined, path: string): string {
  for (const g of site?.contentGroups ?? []) if (g.pattern.test(path)) return g.name;
  return '';
}

export async function loadDimensions(db: pg.Pool): Promise<Dimensions> {
  const sites = await db.query<{ id: string; timezone: string; session_gap_minutes: number; updated_at: Date }>(
    'SELECT id, timezone, session_gap_minutes, updated_at FROM sites ORDER BY id',
  );
  const groups = await db.query<{ site_id: string; name: string; pattern: string }>(
    'SELECT site_id, name, pattern FROM content_groups ORDER BY site_id, position, name',
  );
  const map = new Map<string, SiteDimensions>();
  for (const s of sites.rows)
    map.set(s.id, { timezone: s.timezone, sessionGapMs: s.session_gap_minutes * MINUTE, contentGroups: [] });
  const groupsBySite = new Map<string, typeof groups.rows>();
  for (const g of groups.rows) {
    const list = groupsBySite.get(g.site_id) ?? [];
    if (list.length < 50) list.push(g); // the save-time cap on groups per site
    groupsBySite.set(g.site_id, list);
  }
  // Rows the save-time caps would refuse (older, or written directly) are not matched at all.
  for (const [siteId, gs] of groupsBySite)
    for (const g of patternsWithinSiteLimits(gs))
      map.get(siteId)?.contentGroups.push({ name: g.name, pattern: compilePathPattern(g.pattern) });
  const fingerprint = JSON.stringify([
    sites.rows.map((s) => [s.id, s.timezone, s.session_gap_minutes]),
    groups.rows.map((g) => [g.site_id, g.name, g.pattern]),
  ]);
  return { sites: map, fingerprint };
}

/** A DimensionTable that reloads on a cadence and bumps its version only on real changes. */
export class SiteDimensionTable {
  readonly table = new DimensionTable<Dimensions>({ sites: new Map(), fingerprint: '' });
  lastRefreshAt = 0;
  private timer?: NodeJS.Timeout;
  private refreshing: Promise<void> | null = null;
  private refreshesStarted = 0;
  private latestApplied = 0;
  /** Unknown site ids and when a refresh last looked for them. */
  private readonly asked = new Map<string, number>();

  constructor(private readonly db: pg.Pool) {}

  async refresh(now = Date.now()): Promise<void> {
    // Refreshes overlap (the cadence and ensureKnown): one that read the sites earlier must not
    // swap its older list in after a later one was applied — a site just loaded would vanish.
    const ticket = ++this.refreshesStarted;
    const next = await loadDimensions(this.db);
    if (ticket < this.latestApplied) return;
    this.latestApplied = ticket;
    this.lastRefreshAt = now;
    if (next.fingerprint !== this.table.data.fingerprint) this.table.swap(next);
  }

  /**
   * Refreshes now when a batch holds a site the table does not know yet — a site created since
   * the last refresh. Without this its first minutes were filed with DEFAULT_SITE (UTC days, the
   * default gap) until the cadence caught up, for good: a new site's first test visits landed on
   * the wrong day. An id still unknown after a refresh (deleted meanwhile) is looked up again at
   * most every UNKNOWN_SITE_RECHECK_MS. A failed refresh leaves the table as it was (the cadence
   * retries) rather than stopping the jobs.
   */
  async ensureKnown(siteIds: Iterable<string>, now = Date.now()): Promise<void> {
    const ids = [...siteIds];
    const unknown = () => ids.filter((id) => !this.table.data.sites.has(id));
    if (unknown().length === 0) return;
    // A refresh already running (another job's batch with the same new site, or one that read the
    // sites before this one was created): wait for it whatever the rate limit says, then look again.
    if (this.refreshing) await this.refreshing;
    const due = unknown().filter((id) => {
      const at = this.asked.get(id);
      return at === undefined || now - at >= UNKNOWN_SITE_RECHECK_MS;
    });
    if (due.length === 0) return;
    if (this.asked.size >= MAX_ASKED) this.asked.clear();
    for (const id of due) this.asked.set(id, now);
    this.refreshing ??= this.refresh(now)
      .catch((e: unknown) => {
        // Not marked as looked up: the next batch tries again.
        for (const id of due) this.asked.delete(id);
        console.error(`[dimensions] refresh for a new site failed: ${(e as Error).message}`);
      })
      .finally(() => {
        this.refreshing = null;
      });
    await this.refreshing;
  }

  /** Starts the cadence. The clock is injectable for tests through `refresh(now)`. */
  start(everyMs: number): void {
    this.timer ??= setInterval(
      () =>
        void this.refresh().catch((e: unknown) =>
          console.error(`[dimensions] refresh failed: ${(e as Error).message}`),
        ),
      everyMs,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  site(siteId: string): DeepReadonly<SiteDimensions> {
    return this.table.data.sites.get(siteId) ?? DEFAULT_SITE;
  }
}

// The jobs bucket days with the same function the dashboard looks them up with: a second copy
// once used the offset at the event instead of at midnight and split DST days in two buckets.
export { localDayStart } from '@/lib/analytics/time-zone';

/** The local calendar date (YYYY-MM-DD) of `ts` in `timeZone`. */
export function localDate(ts: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(ts),
  );
}
