import type { PartitionLag } from './lag-clock';

// One site's freshness right now, and why it is what it is. Pure: the alerts job gathers the
// inputs and stores the verdict.
//
// Freshness = now − the collect endpoint's receive time of the newest event visible on the
// dashboard, counted only while something newer is waiting (a site whose every acknowledged
// event is visible is not behind, however long ago its last visitor came). Two measurements:
// - made visible: the ack → visible delays of events that became visible in the last few seconds
//   (the rollups transaction's own clock at commit, the relay's at push) — never a value that is
//   equal by construction;
// - still waiting: an acknowledged event newer than the newest visible one while the rollups job
//   is behind. Its age is at most now − visibleReceivedAt, and at least the lag clock's age of the
//   oldest unapplied message; the smaller is taken, so a quiet site whose first new event is in
//   flight is not charged for the hours it was quiet. This is what catches a stopped worker
//   whether or not anyone has the dashboard open.

export type BreachCause = 'stopped worker' | 'lag' | 'late data';

export interface FreshnessInput {
  now: number;
  /** Worst ack → visible delay among events made visible recently, at commit or push (null: none). */
  recentDelayMs: number | null;
  /** Receive time of the newest event of the site that is visible (committed), ms. */
  visibleReceivedAt: number | null;
  /** Receive time of the newest event the collect endpoint acknowledged for the site, ms. */
  lastAcceptedAt: number | null;
  /** The rollups job's partitions. */
  partitions: PartitionLag[];
  /** Late events (beyond allowed lateness) for this site in the last few minutes. */
  recentLateEvents: number;
  /** A partition whose position has not moved this long while it has lag counts as a stopped worker. */
  stoppedAfterMs: number;
  /** How coarsely the inputs know time: the lag clock's sampling interval plus the ledger's flush. */
  slackMs: number;
}

export interface Freshness {
  /** Null when there was nothing to measure (no recent events, nothing waiting). */
  ms: number | null;
  cause: BreachCause | null;
}

/** How long the site's oldest waiting event has waited, ms; null when nothing is waiting. */
export function waitingMs(
  i: Pick<FreshnessInput, 'now' | 'visibleReceivedAt' | 'lastAcceptedAt' | 'partitions' | 'slackMs'>,
): number | null {
  const lagging = i.partitions.filter((p) => p.lag > 0);
  if (lagging.length === 0 || i.lastAcceptedAt === null) return null;
  if (i.visibleReceivedAt !== null && i.lastAcceptedAt <= i.visibleReceivedAt) return null;
  const oldestAge = Math.max(...lagging.map((p) => p.ageMs));
  // Accepted before the oldest unapplied message was produced: that event was applied (a
  // duplicate dropped, a late event set aside), it is not what the pipeline is behind on.
  if (i.lastAcceptedAt < i.now - oldestAge - i.slackMs) return null;
  return i.visibleReceivedAt === null ? oldestAge : Math.max(0, Math.min(i.now - i.visibleReceivedAt, oldestAge));
}

export function siteFreshness(i: FreshnessInput): Freshness {
  const waiting = waitingMs(i);
  if (waiting === null && i.recentDelayMs === null) return { ms: null, cause: null };
  const ms = Math.max(waiting ?? 0, i.recentDelayMs ?? 0);
  const stopped = waiting !== null && i.partitions.some((p) => p.lag > 0 && p.stalledMs >= i.stoppedAfterMs);
  const cause: BreachCause = stopped
    ? 'stopped worker'
    : waiting !== null || i.recentLateEvents === 0
      ? 'lag'
      : 'late data';
  return { ms, cause };
}

/** p-quantile (nearest rank) of a list. */
export function quantile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}
