// How far apart the live relay (server/live-relay.ts) pushes one site's snapshots. A push waits
// for this interval after the site's previous one, so under steady traffic an event waits half an
// interval on average before its snapshot starts: the shorter, the fresher the screen. But every
// push is a snapshot query, per watched site and per web process, so the interval follows what a
// snapshot costs: at least MIN_PUSH_INTERVAL_MS, at least PUSH_COST_FACTOR snapshot durations
// (one site's pushes take at most a quarter of the time of the connection they run on), and never
// longer than MAX_PUSH_INTERVAL_MS however slow the database is.

export const MIN_PUSH_INTERVAL_MS = 100;
export const MAX_PUSH_INTERVAL_MS = 250;
export const PUSH_COST_FACTOR = 4;

/** `lastSnapshotMs`: how long the site's previous snapshot took (undefined before the first). */
export function pushInterval(lastSnapshotMs: number | undefined): number {
  const cost =
    lastSnapshotMs === undefined || !Number.isFinite(lastSnapshotMs)
      ? MAX_PUSH_INTERVAL_MS
      : PUSH_COST_FACTOR * lastSnapshotMs;
  return Math.min(MAX_PUSH_INTERVAL_MS, Math.max(MIN_PUSH_INTERVAL_MS, Math.round(cost)));
}
