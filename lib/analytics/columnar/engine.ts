import { env } from '@/lib/env';
import { EddyError } from '@/lib/errors';
import { pool, databaseUrl } from '@/lib/db/client';
import {
  activeFilters,
  DIMENSIONS,
  eventFilterOf,
  isOwnEventDimension,
  isSessionDimension,
  isSourceDimension,
  type Dimension,
  type Filters,
} from '../dimensions';
import { dimensionSpec, isCustomEventName, matchedEventsWhere } from '../dimension-registry';
import { ConcurrencyGate } from '../fair-reads';
import { boundedReads } from '../bounded-reads';
import type { Period } from '../range';
import { HOUR } from '@/lib/time';
import { ColumnarStore } from './store';
import { factPredicates, SENT_MATCHING_EVENT } from '../fact-predicates';
import type { SqlSums } from '../metrics';

// The filtered dashboard over the columnar copy (issue 17): the same two passes (events, visits) as
// the PostgreSQL fact engine (fact-engine.ts, whose comment states the semantics — a filtered total
// equals the clicked row), written for DuckDB: times as epoch milliseconds, the series bucket
// by comparison with the points' starts, dictionary ids resolved in PostgreSQL before and labels
// after. Distinct visitors are exact (count DISTINCT), as in PostgreSQL: DuckDB's own
// approx_count_distinct was 3.7 % off on a million values, beyond the sketches' error.
//
// The event filters (custom event, event property) need names and properties the facts do not
// hold: a custom event's matching events come from the copy's custom_events (sync.ts), any other
// event filter's from the archive first (as the PostgreSQL engine does); both are handed to the
// statements as the temporary table `ce`.

const VISIT_REACH_MS = 6 * HOUR;
const TIMEOUT_MS = 20_000;
/** An event filter matching more archived events than this in a range is answered by PostgreSQL. */
const MAX_MATCHED_EVENTS = 2_000_000;
const archiveReads = boundedReads({
  timeoutMs: TIMEOUT_MS,
  tooLong: 'range: this filter takes too long for this range; choose a shorter range',
});

// One copy per process, on globalThis: the web process's own modules (server/, run by tsx) and
// Next.js' server bundle each have their own instance of this module, and two copies would hold
// the facts twice.
const registry = ((globalThis as Record<symbol, unknown>)[Symbol.for('eddy.columnar')] ??= {
  current: null,
}) as { current: { url: string; store: ColumnarStore } | null };

/** This process's copy for the configured database, or null when FILTER_ENGINE is `postgres`. */
export function columnarStore(): ColumnarStore | null {
  if (env().FILTER_ENGINE !== 'columnar') return null;
  const url = databaseUrl();
  if (registry.current?.url !== url) {
    void registry.current?.store.close();
    registry.current = { url, store: new ColumnarStore(pool, env().COLUMNAR_MEMORY_LIMIT) };
  }
  return registry.current.store;
}

/** Closes this process's copy (tests, shutdown). */
export async function closeColumnar(): Promise<void> {
  const c = registry.current;
  registry.current = null;
  await c?.store.close();
}

export interface ColumnarRow extends SqlSums {
  set: string;
  key: number | null;
  label: string | null;
}

/** Breakdowns of the events pass: the event's own values (a source's rows count its visits). */
const EVENT_DIMS = DIMENSIONS.filter(isOwnEventDimension);
const VISIT_DIMS = DIMENSIONS.filter(isSessionDimension);

let gate: ConcurrencyGate | undefined;

/** Statement text for one load; every value in it is a number this function formatted. */
export function columnarStatements(
  site: number,
  p: Period,
  ids: Map<Dimension, number>,
  want: { series: boolean; breakdowns: Dimension[] },
  /** The event filters' matching events are in the connection's temporary table `ce` (visitor, ts). */
  matched = false,
): string[] {
  const n = (x: number) => {
    if (!Number.isFinite(x)) throw new Error(`not a number: ${x}`);
    return String(Math.trunc(x));
  };
  const start = n(p.start);
  const end = n(p.end);
  const reach = n(VISIT_REACH_MS);
  const {
    events: eventPreds,
    visits: visitPreds,
    eventVisits: entryExit,
    pageId,
  } = factPredicates(
    [...ids].map(([d, id]) => [d, n(id)]),
    // Visits in which the visitor sent a matching event, from the read's temporary table. The
    // visitor's semi join first: DuckDB decorrelates the EXISTS through a DISTINCT over every
    // visit it is asked for, 60 of a statement's ~140 ms on the bench data when that was all of
    // the range's visits, ~1 % of them after it (custom-event case: 69 → 23 ms).
    matched ? `v.visitor IN (SELECT visitor FROM ce) AND ${SENT_MATCHING_EVENT}` : null,
  );
  // width_bucket: the number of points that started at or before the time (0 before the first).
  const bucket = (col: string) =>
    `CASE ${p.points
      .map((pt, i) => [pt.start, i + 1] as const)
      .reverse()
      .map(([s, i]) => `WHEN ${col} >= ${n(s)} THEN ${i}`)
      .join(' ')} ELSE 0 END`;
  // One aggregate per set over the filtered rows (a CTE referenced more than once is computed
  // once), not GROUPING SETS: DuckDB's distinct counts under GROUPING SETS took 1.4–2× as long
  // (bench notes in docs/BENCHMARKS.md, "Filtered loads").
  const sets = (dims: readonly Dimension[]): [string, string | null][] => [
    ...(want.series
      ? ([
          ['', null],
          ['bucket', 'bucket'],
        ] as [string, string][])
      : []),
    ...want.breakdowns.filter((d) => dims.includes(d)).map((d): [string, string] => [d, d]),
  ];
  const union = (from: string, list: [string, string | null][], measures: (set: string) => string) =>
    list
      .map(
        ([name, col]) =>
          `SELECT '${name}' AS set, ${col === null ? 'NULL::INTEGER' : `${col}::INTEGER`} AS key, ${measures(name)} FROM ${from}${col === null ? '' : ` GROUP BY ${col}`}`,
      )
      .join('\n UNION ALL ');
  const and = (preds: string[]) => preds.map((x) => ` AND ${x}`).join('');
  const out: string[] = [];

  const eventSets = sets(EVENT_DIMS);
  if (eventSets.length) {
    const cols = EVENT_DIMS.filter((d) => want.breakdowns.includes(d));
    // The events inside the matching visits. An inner join on (visitor, time inside the visit) is
    // 2–3× faster here than EXISTS, which DuckDB decorrelates through a DISTINCT over every
    // event's (ts, visitor) (bench notes in docs/BENCHMARKS.md); an event must then match one
    // visit at most, so where a visitor's visits overlap (a site's gap changed under a late event)
    // each keeps only the milliseconds no earlier-starting one covered — the union EXISTS, the
    // PostgreSQL engine's form, matches.
    const visitsCte = entryExit.length
      ? `fv0 AS (SELECT v.visitor, v.started_at, v.ended_at FROM visit_facts v
                  WHERE v.site = ${site} AND v.started_at >= ${start} - ${reach} AND v.started_at < ${end} AND v.ended_at >= ${start}${and(entryExit)}),
         fv1 AS (SELECT *, max(ended_at) OVER (PARTITION BY visitor ORDER BY started_at, ended_at ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered FROM fv0),
         fv AS (SELECT visitor, CASE WHEN covered >= started_at THEN covered + 1 ELSE started_at END AS started_at, ended_at
                  FROM fv1 WHERE covered IS NULL OR ended_at > covered),`
      : '';
    const inVisit = entryExit.length
      ? ' JOIN fv ON fv.visitor = e.visitor AND e.ts >= fv.started_at AND e.ts <= fv.ended_at'
      : '';
    out.push(`WITH ${visitsCte} fe AS (
        SELECT e.visitor, e.kind${cols.map((d) => `, e.${d}`).join('')}${want.series ? `, ${bucket('e.ts')} AS bucket` : ''}
          FROM event_facts e${inVisit}
         WHERE e.site = ${site} AND e.ts >= ${start} AND e.ts < ${end}${and(eventPreds)})
      ${union(
        'fe',
        eventSets,
        () => `count(DISTINCT visitor)::DOUBLE AS visitors, (count(*) FILTER (WHERE kind = 0))::DOUBLE AS pageviews,
         0::DOUBLE AS sessions, 0::DOUBLE AS bounces, 0::DOUBLE AS duration_ms, 0::DOUBLE AS visit_pageviews`,
      )}`);
  }
  const visitSets = sets(VISIT_DIMS);
  if (visitSets.length) {
    const cols = VISIT_DIMS.filter((d) => want.breakdowns.includes(d));
    const pagesCte = pageId
      ? `pv AS (SELECT visitor, ts FROM event_facts
                 WHERE site = ${site} AND ts >= ${start} AND ts < ${end} + ${reach} AND kind = 0 AND page = ${pageId}),`
      : '';
    // DuckDB's SEMI JOIN: ~25 % faster here than the same as EXISTS.
    const viewed = pageId
      ? ' SEMI JOIN pv ON pv.visitor = v.visitor AND pv.ts >= v.started_at AND pv.ts <= v.ended_at'
      : '';
    out.push(`WITH ${pagesCte} fs AS (
        SELECT v.visitor, v.pageviews, v.duration_ms, v.bounce${cols.map((d) => `, v.${d}`).join('')}${want.series ? `, ${bucket('v.started_at')} AS bucket` : ''}
          FROM visit_facts v${viewed}
         WHERE v.site = ${site} AND v.started_at >= ${start} AND v.started_at < ${end}${and(visitPreds)})
      ${union(
        'fs',
        visitSets,
        // A source's row counts its visits: their visitors and pageviews too.
        (set) =>
          `${isSourceDimension(set) ? 'count(DISTINCT visitor)::DOUBLE AS visitors, coalesce(sum(pageviews), 0)::DOUBLE AS pageviews' : '0::DOUBLE AS visitors, 0::DOUBLE AS pageviews'},
         count(*)::DOUBLE AS sessions, (count(*) FILTER (WHERE bounce))::DOUBLE AS bounces,
         coalesce(sum(duration_ms), 0)::DOUBLE AS duration_ms, coalesce(sum(pageviews), 0)::DOUBLE AS visit_pageviews`,
      )}`);
  }
  return out;
}

/**
 * The grouped rows of one load from the copy (totals, series buckets, breakdown keys with their
 * labels), or null when the copy cannot answer it and PostgreSQL should.
 */
export async function columnarRows(
  siteId: string,
  p: Period,
  filters: Filters,
  want: { series: boolean; breakdowns: Dimension[] },
): Promise<ColumnarRow[] | null> {
  const store = columnarStore();
  if (!store) return null;
  gate ??= new ConcurrencyGate(env().ANALYTICS_SITE_CONCURRENCY, 32, 'filtered queries for this site');
  return gate.run(siteId, async () => {
    const reader = await store.reader(siteId);
    if (!reader) return null;
    const { conn, site } = reader;
    try {
      // A filter value the dictionary does not know matches nothing (-1 is never an id).
      const filterList = activeFilters(filters);
      const ids = new Map<Dimension, number>();
      if (filterList.length) {
        const r = await pool().query<{ i: string; id: number | null }>(
          `SELECT k.i::text, d.id FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS k(kind, value, i)
             LEFT JOIN dimension_values d ON d.site_id = $1 AND d.dimension = k.kind AND d.value = k.value`,
          [siteId, filterList.map(([d]) => dimensionSpec(d).kind), filterList.map(([, v]) => v)],
        );
        for (const row of r.rows) ids.set(filterList[Number(row.i) - 1]![0], row.id ?? -1);
      }
      // A custom event's matching events are in the copy (custom_events); any other event filter
      // (a property on any event, pageviews by name) reads them from the archive (PostgreSQL, its
      // (site, ts) index) into a temporary table of this connection, before the load's snapshot.
      const eventFilter = eventFilterOf(filters);
      const custom =
        eventFilter && isCustomEventName(eventFilter.name) ? { name: eventFilter.name, prop: eventFilter.prop } : null;
      if (eventFilter && !custom) {
        const params: unknown[] = [siteId, new Date(p.start - VISIT_REACH_MS), new Date(p.end + VISIT_REACH_MS)];
        const add = (v: unknown) => {
          params.push(v);
          return `$${params.length}`;
        };
        // On the analytics pool with its timeout, as the PostgreSQL engine reads the archive.
        const matched = await archiveReads(siteId, (c) =>
          c.query<[string, string]>({
            text: `SELECT hashtextextended(visitor_id, 0)::text, (extract(epoch FROM ts) * 1000)::int8::text FROM events
                    WHERE site_id = $1 AND ts >= $2 AND ts < $3 AND ${matchedEventsWhere(eventFilter, add)}
                    LIMIT ${MAX_MATCHED_EVENTS + 1}`,
            values: params,
            rowMode: 'array',
          }),
        );
        // More than that many matching events: not worth holding in memory here; PostgreSQL answers.
        if (matched.rows.length > MAX_MATCHED_EVENTS) return null;
        await conn.run('CREATE OR REPLACE TEMP TABLE ce (visitor BIGINT, ts BIGINT)');
        const app = await conn.createAppender('ce', 'main', 'temp');
        try {
          for (const [visitor, ts] of matched.rows) {
            app.appendBigInt(BigInt(visitor));
            app.appendBigInt(BigInt(ts));
            app.endRow();
          }
        } finally {
          app.closeSync();
        }
      }
      const timer = setTimeout(() => conn.interrupt(), TIMEOUT_MS);
      const rows: ColumnarRow[] = [];
      try {
        // One snapshot for both statements: a sync committing between them must not split a load.
        await conn.run('BEGIN TRANSACTION');
        if (custom) {
          // The user's name and value as bound parameters, never in the statement's text.
          const { name, prop } = custom;
          await conn.run(
            `CREATE OR REPLACE TEMP TABLE ce AS SELECT visitor, ts FROM custom_events
              WHERE site = ${site} AND ts >= $1 AND ts < $2 AND name = $3 AND ${prop ? 'pkey = $4 AND pval = $5' : 'pkey IS NULL'}`,
            [
              BigInt(Math.trunc(p.start - VISIT_REACH_MS)),
              BigInt(Math.trunc(p.end + VISIT_REACH_MS)),
              name,
              ...(prop ? [prop.key, prop.value] : []),
            ],
          );
        }
        for (const sql of columnarStatements(site, p, ids, want, eventFilter !== null)) {
          const result = await conn.runAndReadAll(sql);
          for (const r of result.getRowObjects()) {
            rows.push({
              set: r.set as string,
              key: r.key === null ? null : Number(r.key),
              label: null,
              visitors: r.visitors as number,
              pageviews: r.pageviews as number,
              sessions: r.sessions as number,
              bounces: r.bounces as number,
              duration_ms: r.duration_ms as number,
              visit_pageviews: r.visit_pageviews as number,
            });
          }
        }
        await conn.run('COMMIT');
      } catch (e) {
        if (/interrupt/i.test((e as Error).message))
          throw new EddyError(
            'bad_request',
            'range: this filter takes too long for this range; choose a shorter range',
          );
        throw e;
      } finally {
        clearTimeout(timer);
      }
      // Labels of the breakdown keys, from the dictionary.
      const keys = [
        ...new Set(rows.filter((r) => r.set !== '' && r.set !== 'bucket' && r.key !== null).map((r) => r.key!)),
      ];
      if (keys.length) {
        const labels = new Map(
          (
            await pool().query<{ id: number; value: string }>(
              'SELECT id, value FROM dimension_values WHERE id = ANY($1::int[])',
              [keys],
            )
          ).rows.map((r) => [r.id, r.value]),
        );
        for (const r of rows)
          if (r.set !== '' && r.set !== 'bucket' && r.key !== null) r.label = labels.get(r.key) ?? null;
      }
      return rows;
    } finally {
      conn.closeSync();
    }
  });
}
