import { formatDuration } from './targets';
import { MINUTE } from '@/lib/time';

// How far behind a piece of the dashboard is, and how that reads against the site's SLA. Pure,
// shared by the SLA page and every dashboard tile.

export type BehindTone = 'neutral' | 'ok' | 'amber' | 'red';

/** A measurement older than this says nothing about now (the alerts job measures every 2 s). */
export const MEASUREMENT_STALE_MS = 15_000;

export interface SiteFreshnessNow {
  /** Latest measured freshness, ms (null: nothing to measure — every acknowledged event is visible). */
  ms: number | null;
  /** When it was measured (null: never). */
  measuredAt: number | null;
  targetMs: number | null;
  /** Receive time of the newest event visible on the dashboard. */
  visibleReceivedAt: number | null;
}

export type SlaState =
  { kind: 'no target' } | { kind: 'not measured'; sinceMs: number | null } | { kind: 'within' } | { kind: 'breached' };

/**
 * The SLA verdict right now. A measurement that is missing or stale is never "within target":
 * the job that measures may be the thing that stopped.
 */
export function slaState(f: SiteFreshnessNow, now: number): SlaState {
  if (f.targetMs === null) return { kind: 'no target' };
  if (f.measuredAt === null || now - f.measuredAt > MEASUREMENT_STALE_MS)
    return { kind: 'not measured', sinceMs: f.measuredAt === null ? null : now - f.measuredAt };
  return (f.ms ?? 0) > f.targetMs ? { kind: 'breached' } : { kind: 'within' };
}

/**
 * How far behind a tile is: the pipeline's current freshness, plus how much newer the visible data
 * is than what the tile shows (a tile fetched before the newest events became visible).
 */
export function tileBehindMs(site: SiteFreshnessNow, tileReceivedThrough: number | null): number {
  const pipeline = site.ms ?? 0;
  const superseded =
    site.visibleReceivedAt !== null && tileReceivedThrough !== null
      ? Math.max(0, site.visibleReceivedAt - tileReceivedThrough)
      : 0;
  return pipeline + superseded;
}

/** Amber from half the target, red past it; without a target there is nothing to hold it to. */
export function behindTone(ms: number, targetMs: number | null): BehindTone {
  if (targetMs === null) return 'neutral';
  if (ms > targetMs) return 'red';
  if (ms > targetMs / 2) return 'amber';
  return 'ok';
}

export function formatBehind(ms: number): string {
  if (ms < 1000) return '< 1 s behind';
  // Tenths under 10 s, so a tile just past a 5 s target does not read "5 s behind" in red.
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s behind`;
  if (ms < MINUTE) return `${Math.floor(ms / 1000)} s behind`;
  return `${formatDuration(ms)} behind`;
}
