import type pg from 'pg';
import { isSourceDimension } from '@/lib/analytics/dimensions';
import { localDate, zonedMidnight } from '@/lib/analytics/time-zone';
import { partitionFor, silentPublisher as silentBus, type Bus, type BusMessage } from '@/lib/bus';
import { eventKey, type EventRecord } from '@/lib/events/record';
import { IMPORTED_PARTITION } from '@/lib/exports/stream';
import { publishSiteChanges } from '@/lib/live/publish';
import { HyperLogLog, type Json } from '@/lib/stream';
import { applyRecords } from '../consumer/steps';
import { rollupsJob } from '../rollups/rollups-job';
import { sessionsJob } from '../sessions/sessions-job';
import { SiteDimensionTable } from '../shared/dimensions';
import type { EventTimeEnv } from '../shared/event-time';
import { IMPORT_PARTITIONS, MAX_IMPORT_BYTES } from '@/lib/imports/manage';
import { isZip, readZip } from '@/lib/imports/zip';
import {
  IMPORTED_DIMENSIONS,
  IMPORTED_EVENT_KINDS,
  parseGa4,
  parsePlausible,
  parseUmami,
  Skips,
  type ParsedAggregates,
  type ParsedEvents,
  type Source,
} from '@/lib/imports/sources';
import { transaction } from '@/lib/db/transaction';
import { deleteImportedDay, insertImportedDay } from '@/lib/rollups/imported-days';
import { rebuildSitePeaks } from '../peaks/peaks-job';
import { queueJob, type QueueJob } from '../shared/queue-job';
import { MINUTE } from '@/lib/time';

// The imports job: runs imports (lib/imports/manage.ts queues them; lib/imports/sources.ts reads the files).
//
// Raw events (Umami, GA4) go through the same job code as live traffic — rollupsJob and
// sessionsJob, exactly as `replay` runs them — so imported history has the same visits,
// bounces, breakdowns and archive rows as if Eddy had seen it live. Not through the live
// consumer groups: their watermarks are at the present, so every historical event would be
// beyond allowed lateness (late_events, no visits). Instead each import is its own bounded
// stream: its events, sorted by time within IMPORT_PARTITIONS partitions (by visitor, like the
// topic), feed fresh operators whose watermarks start at the import's own first event and end
// with a flush that fires every window (Flink's bounded-source backfill). Its rows use their own
// source partitions (partition_base + p): rollup rows belong to one writer each, so an import
// never replaces live rows or another import's. Each batch is one transaction holding the
// output, the operators' checkpoint and the position (consumer_progress rows named after the
// import), so a crash resumes where the last batch committed; event ids derived from the source
// make a re-import count nothing twice. The live peaks job is not fed (its event time is the
// present: every imported minute would be late); at the end the site's peak windows are rebuilt
// from the minute rollups the import wrote (workers/peaks/rederive.ts). Aggregates (Plausible) are written as
// imported day rows (rollups, event_rollups) under IMPORTED_PARTITION, replacing the same days of an earlier import.

const BATCH = 500;
const STALE_CLAIM_MS = 10 * MINUTE;

/** A bus stand-in: imports publish one change notice at the end, not one per batch. */

export interface RunHooks {
  /** Test hook: called after each committed batch; throwing stops the import there as a crash would. */
  afterBatch?: (batches: number) => void;
}

type ImportRow = {
  id: string;
  site_id: string;
  source: Source;
  file: Buffer | null;
  partition_base: number;
  rows_read: number;
};

export async function runNextImport(
  p: pg.Pool,
  b: Bus | null,
  settings: EventTimeEnv,
  now: number,
  hooks: RunHooks = {},
): Promise<string | null> {
  const claimed = await p.query<ImportRow>(
    `UPDATE imports SET status = 'running', claimed_at = $1
      WHERE id = (SELECT id FROM imports WHERE status = 'pending' OR (status = 'running' AND claimed_at < $2) ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING id, site_id, source, file, partition_base, rows_read`,
    [new Date(now), new Date(now - STALE_CLAIM_MS)],
  );
  const job = claimed.rows[0];
  if (!job) return null;
  await runImport(p, b, settings, job.id, now, hooks);
  return job.id;
}

/** Runs (or resumes) one claimed import. */
export async function runImport(
  p: pg.Pool,
  b: Bus | null,
  settings: EventTimeEnv,
  importId: string,
  now: number,
  hooks: RunHooks = {},
): Promise<void> {
  const r = await p.query<ImportRow & { timezone: string; domain: string; allowed_hostnames: string[] }>(
    'SELECT i.id, i.site_id, i.source, i.file, i.partition_base, i.rows_read, s.timezone, s.domain, s.allowed_hostnames FROM imports i JOIN sites s ON s.id = i.site_id WHERE i.id = $1',
    [importId],
  );
  const job = r.rows[0];
  if (!job || !job.file) return;
  const site = { id: job.site_id, domain: job.domain, hosts: job.allowed_hostnames, timezone: job.timezone };
  try {
    if (job.source === 'plausible') {
      const files = isZip(job.file)
        ? readZip(job.file, MAX_IMPORT_BYTES)
        : [{ name: 'imported_visitors.csv', data: job.file }];
      const parsed = parsePlausible(files);
      const since = await liveSince(p, site.id);
      if (since !== null) {
        // Whole days only: the day Eddy began counting is Eddy's.
        const firstLive = localDate(since, site.timezone);
        const before = parsed.rows.length + parsed.events.length;
        parsed.rows = parsed.rows.filter((r) => r.date < firstLive);
        parsed.events = parsed.events.filter((r) => r.date < firstLive);
        const after = parsed.rows.length + parsed.events.length;
        if (after < before)
          parsed.skips.add(`on or after ${firstLive}, when Eddy began counting this site`, before - after);
      }
      await writeAggregates(p, importId, site, parsed, now);
    } else {
      const text = job.file.toString('utf8');
      const parsed = job.source === 'umami' ? parseUmami(text, site) : parseGa4(text, site);
      const since = await liveSince(p, site.id);
      if (since !== null) {
        const before = parsed.records.length;
        parsed.records = parsed.records.filter((e) => e.ts < since);
        if (parsed.records.length < before)
          parsed.skips.add(
            `on or after ${new Date(since).toISOString().slice(0, 16).replace('T', ' ')} UTC, when Eddy began counting this site`,
            before - parsed.records.length,
          );
      }
      await replayEvents(p, settings, importId, job.partition_base, parsed, now, hooks);
    }
    if (b) await publishSiteChanges(b, [site.id]).catch(() => undefined);
  } catch (e) {
    if ((e as Error).name === 'ImportInterrupted') throw e;
    await p.query("UPDATE imports SET status = 'failed', error = $2, finished_at = $3, file = NULL WHERE id = $1", [
      importId,
      `The file could not be imported: ${(e as Error).message.slice(0, 200)}`,
      new Date(now),
    ]);
  }
}

/**
 * When Eddy's own counting of the site began (the first minute collect accepted an event for it),
 * or null. History is imported up to there: people switching tools run both for a while, and the
 * days both counted would otherwise count twice. (The ledger is written by collect only.)
 */
async function liveSince(p: pg.Pool, siteId: string): Promise<number | null> {
  const r = await p.query<{ at: Date | null }>(
    'SELECT min(minute) AS at FROM ingestion_ledger WHERE site_id = $1 AND accepted > 0',
    [siteId],
  );
  return r.rows[0]?.at?.getTime() ?? null;
}

function dayRange(records: { ts: number }[], tz: string): { first: string | null; last: string | null } {
  if (records.length === 0) return { first: null, last: null };
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of records) {
    lo = Math.min(lo, r.ts);
    hi = Math.max(hi, r.ts);
  }
  return { first: localDate(lo, tz), last: localDate(hi, tz) };
}

async function replayEvents(
  p: pg.Pool,
  settings: EventTimeEnv,
  importId: string,
  base: number,
  parsed: ParsedEvents,
  now: number,
  hooks: RunHooks,
): Promise<void> {
  const dims = new SiteDimensionTable(p);
  await dims.refresh();
  const jobs = [
    rollupsJob({ bus: silentBus, db: p, dims, settings, clock: () => now }),
    sessionsJob({ bus: silentBus, db: p, dims, settings, clock: () => now }),
  ];
  const names = jobs.map((j) => `import-${j.name}:${importId}`);
  const byPartition = new Map<number, EventRecord[]>();
  for (const rec of parsed.records) {
    const part = partitionFor(eventKey(rec), IMPORT_PARTITIONS);
    const list = byPartition.get(part) ?? [];
    list.push(rec);
    byPartition.set(part, list);
  }
  const tz = dims.site(parsed.records[0]?.siteId ?? '').timezone;
  const days = dayRange(parsed.records, tz);
  await p.query('UPDATE imports SET rows_total = $2, first_day = $3, last_day = $4 WHERE id = $1 AND rows_total = 0', [
    importId,
    parsed.read,
    days.first,
    days.last,
  ]);
  // Rows the parser refused are booked once (not again on a resume).
  await p.query('UPDATE imports SET rows_skipped = $2, rows_read = $2, skipped = $3 WHERE id = $1 AND rows_read = 0', [
    importId,
    parsed.skips.total,
    JSON.stringify(parsed.skips.toJSON()),
  ]);
  let batches = 0;
  for (const [part, unsorted] of [...byPartition].sort((a, z) => a[0] - z[0])) {
    const list = unsorted.sort((a, z) => a.ts - z.ts || (a.eventId < z.eventId ? -1 : 1));
    const sp = base + part;
    // Resume: both jobs' checkpoints and the position, as the last committed batch left them.
    const progress = await p.query<{ job: string; next_offset: string; state: Json | null }>(
      "SELECT job, next_offset::text, state FROM consumer_progress WHERE job = ANY($1) AND topic = 'import' AND partition = $2",
      [names, sp],
    );
    const at = (job: string) => progress.rows.find((x) => x.job === job);
    jobs.forEach((j, i) => j.restore(sp, at(names[i]!)?.state ?? null));
    let offset = Number(at(names[0]!)?.next_offset ?? 0);
    const finished = offset > list.length;
    for (; offset < list.length; offset += BATCH) {
      const chunk = list.slice(offset, offset + BATCH);
      const next = Math.min(list.length, offset + BATCH);
      await transaction(p, async (tx) => {
        const seen = await tx.query<{ event_id: string }>(
          "SELECT event_id FROM event_ids WHERE job = 'rollups' AND event_id = ANY($1::uuid[])",
          [chunk.map((e) => e.eventId)],
        );
        const dup = new Set(seen.rows.map((x) => x.event_id));
        const fresh = chunk.filter((e) => !dup.has(e.eventId));
        const messages = fresh.map((record, k) => ({
          message: {
            topic: 'import',
            partition: sp,
            offset: String(offset + k),
            key: null,
            value: null,
            timestamp: record.ts,
            headers: {},
          } satisfies BusMessage,
          record,
        }));
        const states: (Json | null)[] = [];
        for (const j of jobs) states.push((await applyRecords(j, tx, sp, messages)).result.state ?? null);
        await saveProgress(tx, names, sp, next, states);
        await tx.query('DELETE FROM minute_partials WHERE source_partition = $1', [sp]);
        const skips = new Skips();
        if (dup.size) skips.add('already imported (same event)', dup.size);
        await book(tx, importId, chunk.length, fresh.length, skips);
      });
      hooks.afterBatch?.(++batches);
    }
    if (!finished) {
      // End of this partition's input: let event time run out so every window fires.
      await transaction(p, async (tx) => {
        const states: (Json | null)[] = [];
        for (const j of jobs) states.push((await j.flush?.(tx, sp))?.state ?? null);
        await saveProgress(tx, names, sp, list.length + 1, states);
        await tx.query('DELETE FROM minute_partials WHERE source_partition = $1', [sp]);
      });
    }
  }
  const siteId = parsed.records[0]?.siteId;
  await transaction(p, async (tx) => {
    // Peaks too, as replay runs them: the live peaks job never sees these minutes (its event
    // time is the present), so the site's busiest windows are rebuilt from the minute rollups.
    if (siteId) await rebuildSitePeaks(tx, siteId, tz);
    await tx.query("DELETE FROM consumer_progress WHERE job = ANY($1) AND topic = 'import'", [names]);
    await tx.query("UPDATE imports SET status = 'done', finished_at = $2, file = NULL WHERE id = $1", [
      importId,
      new Date(now),
    ]);
  });
}

async function saveProgress(
  tx: pg.PoolClient,
  names: string[],
  partition: number,
  next: number,
  states: (Json | null)[],
): Promise<void> {
  for (const [i, job] of names.entries()) {
    await tx.query(
      `INSERT INTO consumer_progress (job, topic, partition, next_offset, state) VALUES ($1, 'import', $2, $3, $4)
       ON CONFLICT (job, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, state = EXCLUDED.state, version = consumer_progress.version + 1, updated_at = now()`,
      [job, partition, next, states[i] === null ? null : JSON.stringify(states[i])],
    );
  }
}

async function book(tx: pg.PoolClient, importId: string, read: number, imported: number, skips: Skips): Promise<void> {
  await tx.query(
    `UPDATE imports SET rows_read = rows_read + $2, rows_imported = rows_imported + $3, rows_skipped = rows_skipped + $4,
       skipped = (SELECT COALESCE(jsonb_object_agg(k, v), '{}') FROM (
         SELECT k, sum(v)::int AS v FROM (SELECT key AS k, value::int AS v FROM jsonb_each_text(skipped) UNION ALL SELECT key, value::int FROM jsonb_each_text($5::jsonb)) x GROUP BY k) y)
     WHERE id = $1`,
    [importId, read, imported, skips.total, JSON.stringify(skips.toJSON())],
  );
}

/** A sketch of `n` synthetic visitors: sketches then merge as everywhere else (a range's visitors are the sum of its days'). */
function syntheticVisitors(key: string, n: number): string {
  const sketch = new HyperLogLog(14);
  for (let i = 0; i < n; i++) sketch.add(`imported|${key}|${i}`);
  return JSON.stringify(sketch.toJSON());
}

/**
 * Aggregates → day rows under IMPORTED_PARTITION: rollups (totals, pages, breakdowns) and
 * event_rollups (custom events and their links/paths, outbound links, downloads, 404s — what the
 * insights panels read, which mark them imported). Visitors become a sketch of that many
 * synthetic visitors per day and value (what the source can tell: it kept no ids). The days of
 * the file replace the same days of an earlier Plausible import, so importing again changes nothing.
 */
async function writeAggregates(
  p: pg.Pool,
  importId: string,
  site: { id: string; timezone: string },
  parsed: ParsedAggregates,
  now: number,
): Promise<void> {
  const { rows, events, read, skips } = parsed;
  const dates = [...new Set(rows.map((r) => r.date))].sort();
  const eventDates = [...new Set(events.map((r) => r.date))].sort();
  await transaction(p, async (tx) => {
    for (const date of dates) {
      const bucket = new Date(zonedMidnight(date, site.timezone));
      await deleteImportedDay(tx, site.id, bucket, IMPORTED_PARTITION, [...IMPORTED_DIMENSIONS]);
    }
    for (const date of eventDates) {
      await tx.query(
        "DELETE FROM event_rollups WHERE site_id = $1 AND granularity = 'day' AND bucket = $2 AND source_partition = $3 AND kind = ANY($4)",
        [site.id, new Date(zonedMidnight(date, site.timezone)), IMPORTED_PARTITION, [...IMPORTED_EVENT_KINDS]],
      );
    }
    const seen = new Set<string>();
    for (const r of rows) {
      const key = `${r.date}|${r.dimension}|${r.value}`;
      if (seen.has(key)) {
        skips.add('duplicate row (same day and page)');
        continue;
      }
      seen.add(key);
      await insertImportedDay(tx, {
        siteId: site.id,
        bucket: new Date(zonedMidnight(r.date, site.timezone)),
        dimension: r.dimension,
        value: r.value,
        partition: IMPORTED_PARTITION,
        pageviews: r.pageviews,
        visitors: syntheticVisitors(key, r.visitors),
        sessions: r.visits,
        bounces: r.bounces,
        durationMs: r.durationS * 1000,
        // Pages per visit reads visit_pageviews: a day's pageviews are its visits' (Plausible's totals),
        // and so are a source's (Plausible's sources count sessions, as Eddy's do: dimensions.ts).
        visitPageviews: r.dimension === '' || isSourceDimension(r.dimension) ? r.pageviews : 0,
      });
    }
    // Summed per (day, kind, value) by the parser: one row each.
    for (const e of events) {
      await tx.query(
        `INSERT INTO event_rollups (site_id, granularity, bucket, kind, value, source_partition, count, visitors, updated_at)
         VALUES ($1, 'day', $2, $3, $4, $5, $6, $7, now())`,
        [
          site.id,
          new Date(zonedMidnight(e.date, site.timezone)),
          e.kind,
          e.value,
          IMPORTED_PARTITION,
          e.events,
          syntheticVisitors(`${e.date}|${e.kind}|${e.value}`, e.visitors),
        ],
      );
    }
    const imported = rows.length - (skips.counts.get('duplicate row (same day and page)') ?? 0) + events.length;
    const days = [...new Set([...dates, ...eventDates])].sort();
    await tx.query(
      `UPDATE imports SET status = 'done', finished_at = $2, file = NULL, rows_total = $3, rows_read = $3, rows_imported = $4, rows_skipped = $5, skipped = $6, first_day = $7, last_day = $8 WHERE id = $1`,
      [
        importId,
        new Date(now),
        read,
        imported,
        skips.total,
        JSON.stringify(skips.toJSON()),
        days[0] ?? null,
        days[days.length - 1] ?? null,
      ],
    );
  });
}

/** The imports job: runs queued imports one after another, polling every `everyMs`. */
export function importsJob(deps: {
  db: pg.Pool;
  bus: Bus | null;
  settings: EventTimeEnv;
  clock?: () => number;
}): QueueJob {
  const clock = deps.clock ?? Date.now;
  return queueJob('imports', () => runNextImport(deps.db, deps.bus, deps.settings, clock()));
}
