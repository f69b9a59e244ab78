// How old is the oldest event a consumer has not applied yet? A consumer's lag in offsets does
// not say (10 messages behind under steady traffic is milliseconds; 1 message behind a stopped
// worker grows without bound). The lag clock remembers when each partition's end offset moved;
// the oldest unapplied offset was produced no earlier than the first time the end offset passed
// it, which gives a lower bound on its age with the precision of the sampling interval.

export interface PartitionLag {
  partition: number;
  lag: number;
  /** Lower bound of the age of the oldest unapplied message, ms (0 without lag). */
  ageMs: number;
  /** Time since the consumer's position last moved while it had lag, ms (0 without lag). */
  stalledMs: number;
}

interface Track {
  history: { t: number; end: bigint }[];
  next: bigint;
  movedAt: number;
  lagged: boolean;
}

const MAX_HISTORY = 5000;

export class LagClock {
  private tracks = new Map<number, Track>();

  observe(partition: number, endOffset: bigint, nextOffset: bigint, now: number): PartitionLag {
    let tr = this.tracks.get(partition);
    if (!tr) {
      tr = { history: [], next: nextOffset, movedAt: now, lagged: false };
      this.tracks.set(partition, tr);
    }
    const last = tr.history[tr.history.length - 1];
    if (!last || last.end !== endOffset) tr.history.push({ t: now, end: endOffset });
    if (nextOffset !== tr.next || !tr.lagged) {
      tr.next = nextOffset;
      tr.movedAt = now;
    }
    // Entries at or below the applied position are history; keep the last one as the lower edge.
    while (tr.history.length > 1 && tr.history[1]!.end <= nextOffset) tr.history.shift();
    if (tr.history.length > MAX_HISTORY) tr.history.splice(1, tr.history.length - MAX_HISTORY);
    const lag = endOffset > nextOffset ? Number(endOffset - nextOffset) : 0;
    tr.lagged = lag > 0;
    if (lag === 0) {
      return { partition, lag, ageMs: 0, stalledMs: 0 };
    }
    const firstPast = tr.history.find((h) => h.end > nextOffset) ?? tr.history[0]!;
    return { partition, lag, ageMs: now - firstPast.t, stalledMs: now - tr.movedAt };
  }
}
