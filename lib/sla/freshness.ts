import type { PartitionLag } from './lag-clock';

// One site's freshness right now, and why it is what it is. Pure: the alerts job gathers the
// inputs (measured delays of recently visible events, the rollups job's lag clock, whether the
// site sent events during a stall, late events) and stores the verdict.

export type BreachCause = 'stopped worker' | 'lag' | 'late data';

export interface FreshnessInput {
  /** p95 of ack → visible over the events made visible recently (null: none). */
  recentP95Ms: number | null;
  /** The rollups job's partitions. */
  partitions: PartitionLag[];
  /** The site had events acknowledged since the oldest stall began (so they are waiting). */
  siteHasWaitingEvents: boolean;
  /** Late events (beyond allowed lateness) for this site in the last few minutes. */
  recentLateEvents: number;
  /** A partition whose position has not moved this long while it has lag counts as a stopped worker. */
  stoppedAfterMs: number;
}

export interface Freshness {
  /** Null when there was nothing to measure (no recent events, nothing waiting). */
  ms: number | null;
  cause: BreachCause | null;
}

export function siteFreshness(i: FreshnessInput): Freshness {
  const waiting = i.siteHasWaitingEvents ? i.partitions.filter((p) => p.lag > 0) : [];
  const waitingAge = waiting.reduce((m, p) => Math.max(m, p.ageMs), 0);
  const ms = waiting.length || i.recentP95Ms !== null ? Math.max(waitingAge, i.recentP95Ms ?? 0) : null;
  if (ms === null) return { ms, cause: null };
  const cause: BreachCause = waiting.some((p) => p.stalledMs >= i.stoppedAfterMs) ? 'stopped worker' : waiting.length || i.recentLateEvents === 0 ? 'lag' : 'late data';
  return { ms, cause };
}

/** p-quantile (nearest rank) of a list. */
export function quantile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}
