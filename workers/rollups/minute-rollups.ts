import type pg from 'pg';
import type { Bus, BusMessage } from '@/lib/bus';
import { topics } from '@/lib/bus';
import { eventRecordSchema, type EventRecord } from '@/lib/events/record';
import { publishMinuteCounts, type MinuteCount } from '@/lib/live/publish';
import type { Job } from '../runtime';

// Per-site, per-minute pageview and event counts. Raw events are inserted with
// ON CONFLICT (event_id) DO NOTHING and only the rows actually inserted are counted, so a
// replayed or re-sent event never counts twice.

const MINUTE = 60_000;

export function minuteRollupsJob(b: Bus): Job {
  return {
    name: 'rollups',
    topic: topics.events,
    async apply(tx: pg.PoolClient, messages: BusMessage[]) {
      const events: EventRecord[] = [];
      for (const m of messages) {
        const parsed = m.value ? safeParse(m.value) : null;
        if (parsed) events.push(parsed);
        else console.error(`[rollups] skipping unreadable record ${m.topic}/${m.partition}@${m.offset}`);
      }
      if (events.length === 0) return;
      const inserted = await tx.query<{ site_id: string; ts: Date; name: string }>(
        `INSERT INTO events (event_id, site_id, visitor_id, name, url, ts)
         SELECT u.* FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS u(event_id, site_id, visitor_id, name, url, ts)
         WHERE EXISTS (SELECT 1 FROM sites s WHERE s.id = u.site_id)
         ON CONFLICT (event_id) DO NOTHING
         RETURNING site_id, ts, name`,
        [
          events.map((e) => e.eventId),
          events.map((e) => e.siteId),
          events.map((e) => e.visitorId),
          events.map((e) => e.name),
          events.map((e) => e.url),
          events.map((e) => new Date(e.ts).toISOString()),
        ],
      );
      if (inserted.rows.length === 0) return;
      const deltas = new Map<string, { siteId: string; minute: number; pageviews: number; events: number }>();
      for (const row of inserted.rows) {
        const minute = Math.floor(row.ts.getTime() / MINUTE) * MINUTE;
        const k = `${row.site_id}|${minute}`;
        const d = deltas.get(k) ?? { siteId: row.site_id, minute, pageviews: 0, events: 0 };
        d.events += 1;
        if (row.name === 'pageview') d.pageviews += 1;
        deltas.set(k, d);
      }
      const list = [...deltas.values()];
      const totals = await tx.query<{ site_id: string; minute: Date; pageviews: number; events: number }>(
        `INSERT INTO rollups_minute (site_id, minute, pageviews, events, updated_at)
         SELECT u.site_id, u.minute, u.pageviews, u.events, now() FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::int[]) AS u(site_id, minute, pageviews, events)
         ON CONFLICT (site_id, minute) DO UPDATE SET pageviews = rollups_minute.pageviews + EXCLUDED.pageviews,
           events = rollups_minute.events + EXCLUDED.events, updated_at = now()
         RETURNING site_id, minute, pageviews, events`,
        [list.map((d) => d.siteId), list.map((d) => new Date(d.minute).toISOString()), list.map((d) => d.pageviews), list.map((d) => d.events)],
      );
      const counts: MinuteCount[] = totals.rows.map((r) => ({ siteId: r.site_id, minute: r.minute.getTime(), pageviews: r.pageviews, events: r.events }));
      // Totals (not deltas) are pushed: applying one twice or out of order is harmless.
      return () => publishMinuteCounts(b, counts);
    },
  };
}

function safeParse(value: Buffer): EventRecord | null {
  try {
    const r = eventRecordSchema.safeParse(JSON.parse(value.toString('utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
