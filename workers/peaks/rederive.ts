import type pg from 'pg';
import { HyperLogLog } from '@/lib/stream';
import { groupMinuteSketches, peakCandidates } from '@/lib/rollups/peak-minutes';

// Re-deriving a site's busiest windows after its time zone changed (issue 12 §3).
//
// peak_windows keeps the busiest window *per local day*, and the day of a window is decided when
// it fires, with the time zone of that moment. After a change, the rows of the days that were
// cut with the old zone no longer match the days the header and the charts cut with the new one
// (the header said 24 pageviews today while the card, still holding the old zone's day, said 16).
// The minute rollups hold everything the windows were made of (pageviews and a visitor sketch
// per minute, per content group, kept for the whole history), so the peaks job rebuilds the
// site's rows from them, in its own transaction (it owns peak_windows), then goes on firing.
//
// Pageviews, which decide the winner, are summed in SQL over every window start; visitor sketches
// are merged in JS only for the windows tied on pageviews (usually one per day), since merging a
// sketch per minute of every window of every day would cost seconds per site.

const MINUTE_S = 60;
/** Ties on pageviews whose visitors are compared per day and group; more are rare and cut by start. */
const MAX_TIES = 8;

export interface RederivedWindow {
  contentGroup: string;
  sizeMin: number;
  day: string;
  start: number;
  end: number;
  pageviews: number;
  visitors: number;
}

/** Rebuilds peak_windows of one site from its minute rollups with the site's (new) time zone. Returns the rows written. */
export async function rederiveSitePeaks(
  tx: pg.PoolClient,
  siteId: string,
  timezone: string,
  sizes: readonly { sizeMin: number; slideMin: number }[],
): Promise<RederivedWindow[]> {
  const out: RederivedWindow[] = [];
  for (const { sizeMin, slideMin } of sizes) {
    const size = sizeMin * MINUTE_S;
    const slide = slideMin * MINUTE_S;
    // The best windows per local day and group, ties on pageviews kept (lib/rollups/peak-minutes.ts).
    const rows = await peakCandidates(tx, siteId, size, slide, timezone, MAX_TIES);
    // The winner of each (group, day): most visitors among the windows tied on pageviews, then the earliest.
    const best = new Map<string, RederivedWindow>();
    for (const r of rows) {
      const start = Number(r.start_s) * 1000;
      const end = start + size * 1000;
      const visitors = await windowVisitors(tx, siteId, r.grp, start, end);
      const k = `${r.grp}|${r.day}`;
      const cur = best.get(k);
      if (!cur || visitors > cur.visitors)
        best.set(k, { contentGroup: r.grp, sizeMin, day: r.day, start, end, pageviews: r.pageviews, visitors });
    }
    out.push(...best.values());
  }
  await tx.query('DELETE FROM peak_windows WHERE site_id = $1', [siteId]);
  if (out.length) {
    await tx.query(
      `INSERT INTO peak_windows (site_id, day, content_group, window_size_minutes, window_start, window_end, pageviews, visitors, updated_at)
       SELECT $1, u.day::date, u.grp, u.size, u.ws, u.we, u.pv, u.vis, now()
         FROM unnest($2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::timestamptz[], $7::int[], $8::int[]) AS u(day, grp, size, ws, we, pv, vis)`,
      [
        siteId,
        out.map((w) => w.day),
        out.map((w) => w.contentGroup),
        out.map((w) => w.sizeMin),
        out.map((w) => new Date(w.start).toISOString()),
        out.map((w) => new Date(w.end).toISOString()),
        out.map((w) => w.pageviews),
        out.map((w) => w.visitors),
      ],
    );
  }
  return out;
}

async function windowVisitors(
  tx: pg.PoolClient,
  siteId: string,
  group: string,
  start: number,
  end: number,
): Promise<number> {
  const sketches = await groupMinuteSketches(tx, siteId, group, start, end);
  // The job's windows use precision 14 (trafficAggregate); the same here, so a re-derived count equals a fired one.
  const hll = new HyperLogLog(14);
  for (const s of sketches) hll.merge(HyperLogLog.fromJSON(s));
  return hll.estimate();
}
