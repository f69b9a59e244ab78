import type pg from 'pg';

// Facts for data stored before the workers wrote them (issue 17): event_facts from the raw events
// archive, visit_facts from the `sessions` rows, dictionary values from both — the same values the
// jobs derive (workers/shared/value-dictionary.ts eventValues, workers/sessions visitValues).
// Idempotent (ON CONFLICT DO NOTHING), so running it over rows the workers already wrote changes
// nothing. The migration that added the tables runs the same statements for every site.

const EVENT_VALUES = `
  SELECT e.site_id, e.ts, e.event_id, e.visitor_id, e.name,
         coalesce(e.record->>'path', '/') AS page,
         CASE WHEN e.record->>'channel' = 'internal' THEN NULL ELSE coalesce(e.record->>'referrerHost', '(direct)') END AS referrer,
         CASE WHEN e.record->>'channel' = 'internal' THEN NULL ELSE coalesce(e.record->>'channel', 'direct') END AS channel,
         nullif(e.record->'utm'->>'source', '') AS utm_source,
         nullif(e.record->'utm'->>'medium', '') AS utm_medium,
         nullif(e.record->'utm'->>'campaign', '') AS utm_campaign,
         coalesce(e.record->>'country', '(unknown)') AS country,
         coalesce(e.record->>'device', 'other') AS device,
         coalesce(e.record->>'browser', 'Unknown') AS browser,
         coalesce(e.record->>'os', 'Unknown') AS os
    FROM (SELECT * FROM events WHERE NOT (record ? 'request')) e WHERE e.site_id = $1`;


const VISIT_VALUES = `
  SELECT s.site_id, s.visitor_id, s.started_at, s.ended_at, s.pageviews, s.duration_ms, s.bounce,
         s.entry_path AS entry_page, s.exit_path AS exit_page, coalesce(s.referrer_host, '(direct)') AS referrer, s.channel,
         s.utm_source, s.utm_medium, s.utm_campaign, coalesce(s.country, '(unknown)') AS country, s.device, s.browser, s.os
    FROM sessions s WHERE s.site_id = $1`;

const KINDS: [string, string[]][] = [
  ['page', ['page']],
  ['referrer', ['referrer']],
  ['channel', ['channel']],
  ['utm_source', ['utm_source']],
  ['utm_medium', ['utm_medium']],
  ['utm_campaign', ['utm_campaign']],
  ['country', ['country']],
  ['device', ['device']],
  ['browser', ['browser']],
  ['os', ['os']],
];

const id = (kind: string, col: string) => `(SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = '${kind}' AND d.value = x.${col})`;

/** Writes the facts of one site's archived events and stored visits that have none yet. */
export async function backfillFacts(db: pg.Pool | pg.PoolClient, siteId: string): Promise<void> {
  for (const sql of backfillStatements()) await db.query(sql, [siteId]);
}

/** The backfill's statements: for the site in $1, or (`allSites`) for every site (the migration's copy). */
export function backfillStatements(allSites = false): string[] {
  const visitCols: [string, string][] = [
    ['page', 'entry_page'],
    ['page', 'exit_page'],
    ...KINDS.filter(([k]) => k !== 'page').map(([k]): [string, string] => [k, k]),
  ];
  const values = [
    ...KINDS.map(([k, cols]) => `SELECT DISTINCT site_id, '${k}' AS dimension, ${cols[0]} AS value FROM ev WHERE ${cols[0]} IS NOT NULL`),
    ...visitCols.map(([k, col]) => `SELECT DISTINCT site_id, '${k}', ${col} FROM vi WHERE ${col} IS NOT NULL`),
  ];
  const scope = (sql: string) => (allSites ? sql.replace(/ WHERE [es]\.site_id = \$1/g, '') : sql);
  return [
    `WITH ev AS MATERIALIZED (${EVENT_VALUES}), vi AS MATERIALIZED (${VISIT_VALUES})
     INSERT INTO dimension_values (site_id, dimension, value)
     SELECT DISTINCT * FROM (${values.join(' UNION ')}) v ORDER BY 1, 2, 3
     ON CONFLICT (site_id, dimension, value) DO NOTHING`,
    `INSERT INTO event_facts (site_id, ts, event_id, visitor, kind, page, referrer, channel, utm_source, utm_medium, utm_campaign, country, device, browser, os)
     SELECT x.site_id, x.ts, x.event_id, hashtextextended(x.visitor_id, 0), CASE x.name WHEN 'pageview' THEN 0 WHEN 'engagement' THEN 1 ELSE 2 END,
            ${KINDS.map(([k]) => id(k, k)).join(', ')}
       FROM (${EVENT_VALUES}) x
     ON CONFLICT (site_id, ts, event_id) DO NOTHING`,
    `INSERT INTO visit_facts (site_id, started_at, visitor, ended_at, pageviews, duration_ms, bounce, entry_page, exit_page, referrer, channel,
       utm_source, utm_medium, utm_campaign, country, device, browser, os)
     SELECT x.site_id, x.started_at, hashtextextended(x.visitor_id, 0), x.ended_at, x.pageviews, x.duration_ms, x.bounce,
            ${visitCols.map(([k, col]) => id(k, col)).join(', ')}
       FROM (${VISIT_VALUES}) x
     ON CONFLICT (site_id, started_at, visitor) DO NOTHING`,
  ].map(scope);
}
