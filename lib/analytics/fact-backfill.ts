import type pg from 'pg';
import { EVENT_SPECS, VISIT_SPECS } from './dimension-registry';

// Facts for data stored before the workers wrote them (issue 17): event_facts from the raw events
// archive, visit_facts from the `sessions` rows, dictionary values from both — the same values the
// jobs derive, read by the same registry (dimension-registry.ts).
// Idempotent (ON CONFLICT DO NOTHING), so running it over rows the workers already wrote changes
// nothing. The migration that added the tables runs the same statements for every site.

const EVENT_VALUES = `
  SELECT e.site_id, e.ts, e.event_id, e.visitor_id, e.name,
         ${EVENT_SPECS.map((d) => `${d.event.sql('e.record')} AS ${d.name}`).join(',\n         ')}
    FROM (SELECT * FROM events WHERE NOT (record ? 'request')) e WHERE e.site_id = $1`;

const VISIT_VALUES = `
  SELECT s.site_id, s.visitor_id, s.started_at, s.ended_at, s.pageviews, s.duration_ms, s.bounce,
         ${VISIT_SPECS.map((d) => `${d.visit.sql('s')} AS ${d.name}`).join(', ')}
    FROM sessions s WHERE s.site_id = $1`;

const id = (kind: string, col: string) =>
  `(SELECT d.id FROM dimension_values d WHERE d.site_id = x.site_id AND d.dimension = '${kind}' AND d.value = x.${col})`;

/** Writes the facts of one site's archived events and stored visits that have none yet. */
export async function backfillFacts(db: pg.Pool | pg.PoolClient, siteId: string): Promise<void> {
  for (const sql of backfillStatements()) await db.query(sql, [siteId]);
}

/** The backfill's statements: for the site in $1, or (`allSites`) for every site (the migration's copy). */
export function backfillStatements(allSites = false): string[] {
  const values = [
    ...EVENT_SPECS.map(
      (d) =>
        `SELECT DISTINCT site_id, '${d.kind}' AS dimension, ${d.name} AS value FROM ev WHERE ${d.name} IS NOT NULL`,
    ),
    ...VISIT_SPECS.map((d) => `SELECT DISTINCT site_id, '${d.kind}', ${d.name} FROM vi WHERE ${d.name} IS NOT NULL`),
  ];
  const scope = (sql: string) => (allSites ? sql.replace(/ WHERE [es]\.site_id = \$1/g, '') : sql);
  return [
    `WITH ev AS MATERIALIZED (${EVENT_VALUES}), vi AS MATERIALIZED (${VISIT_VALUES})
     INSERT INTO dimension_values (site_id, dimension, value)
     SELECT DISTINCT * FROM (${values.join(' UNION ')}) v ORDER BY 1, 2, 3
     ON CONFLICT (site_id, dimension, value) DO NOTHING`,
    `INSERT INTO event_facts (site_id, ts, event_id, visitor, kind, ${EVENT_SPECS.map((d) => d.name).join(', ')})
     SELECT x.site_id, x.ts, x.event_id, hashtextextended(x.visitor_id, 0), CASE x.name WHEN 'pageview' THEN 0 WHEN 'engagement' THEN 1 ELSE 2 END,
            ${EVENT_SPECS.map((d) => id(d.kind, d.name)).join(', ')}
       FROM (${EVENT_VALUES}) x
     ON CONFLICT (site_id, ts, event_id) DO NOTHING`,
    `INSERT INTO visit_facts (site_id, started_at, visitor, ended_at, pageviews, duration_ms, bounce, ${VISIT_SPECS.map((d) => d.name).join(', ')})
     SELECT x.site_id, x.started_at, hashtextextended(x.visitor_id, 0), x.ended_at, x.pageviews, x.duration_ms, x.bounce,
            ${VISIT_SPECS.map((d) => id(d.kind, d.name)).join(', ')}
       FROM (${VISIT_VALUES}) x
     ON CONFLICT (site_id, started_at, visitor) DO NOTHING`,
  ].map(scope);
}
