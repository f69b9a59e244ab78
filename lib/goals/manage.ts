import { pool } from '../db/client';
import { isUuid } from '../auth/access';
import { EddyError } from '../errors';
import { env } from '../env';
import { patternsWithinSiteLimits, wildcardCount, SITE_MAX_PATH_WILDCARDS } from '../analytics/path-pattern';
import { compileMatcher, describeMatcher, MAX_GOALS_PER_SITE, matches, type GoalInput } from './definition';
import { DAY, MINUTE } from '@/lib/time';

// A site's goals: this module owns the `goals` table. Every query carries the site id the access
// layer resolved, so a goal id of another site is "not found". The insights job reads the table
// as its side input (workers/insights/definitions.ts) and writes goal_conversions.

export interface GoalView {
  id: string;
  name: string;
  kind: 'event' | 'page';
  eventName: string | null;
  propKey: string | null;
  propValue: string | null;
  pathPattern: string | null;
  description: string;
  createdAt: string;
}

interface GoalRowDb {
  id: string;
  name: string;
  kind: string;
  event_name: string | null;
  prop_key: string | null;
  prop_value: string | null;
  path_pattern: string | null;
  created_at: Date;
}

const view = (r: GoalRowDb): GoalView => ({
  id: r.id,
  name: r.name,
  kind: r.kind === 'page' ? 'page' : 'event',
  eventName: r.event_name,
  propKey: r.prop_key,
  propValue: r.prop_value,
  pathPattern: r.path_pattern,
  description: describeMatcher({
    kind: r.kind,
    eventName: r.event_name,
    propKey: r.prop_key,
    propValue: r.prop_value,
    pathPattern: r.path_pattern,
  }),
  createdAt: r.created_at.toISOString(),
});

export async function listGoals(siteId: string): Promise<GoalView[]> {
  const r = await pool().query<GoalRowDb>('SELECT * FROM goals WHERE site_id = $1 ORDER BY created_at, id', [siteId]);
  return r.rows.map(view);
}

/** How far back a new goal is counted from the archive. */
export const GOAL_BACKFILL_DAYS = 30;

export async function createGoal(siteId: string, input: GoalInput, now = Date.now()): Promise<GoalView> {
  const existing = await listGoals(siteId);
  if (existing.length >= MAX_GOALS_PER_SITE)
    throw new EddyError('limit_reached', `A site has at most ${MAX_GOALS_PER_SITE} goals`);
  if (existing.some((g) => g.name === input.name))
    throw new EddyError('bad_request', 'name: a goal with this name exists');
  const propKey = input.kind === 'event' && input.propKey ? input.propKey : null;
  const propValue = propKey && input.kind === 'event' ? (input.propValue ?? '') : null;
  const pathPattern = input.kind === 'page' ? input.pathPattern : null;
  if (pathPattern) {
    const patterns = [
      ...existing.filter((g) => g.pathPattern).map((g) => ({ pattern: g.pathPattern! })),
      { pattern: pathPattern },
    ];
    if (patternsWithinSiteLimits(patterns).length < patterns.length) {
      throw new EddyError(
        'bad_request',
        `pathPattern: a site's goals have at most ${SITE_MAX_PATH_WILDCARDS} wildcards in all (this one has ${wildcardCount(pathPattern)})`,
      );
    }
  }
  const r = await pool().query<GoalRowDb>(
    `INSERT INTO goals (id, site_id, name, kind, event_name, prop_key, prop_value, path_pattern) VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [
      siteId,
      input.name,
      input.kind,
      input.kind === 'event' ? input.eventName : 'pageview',
      propKey,
      propValue,
      pathPattern,
    ],
  );
  const goal = view(r.rows[0]!);
  await backfillGoal(siteId, goal.id, now - GOAL_BACKFILL_DAYS * DAY, now);
  // The workers match new events once their definitions refresh (DEFINITIONS_REFRESH_MS); a
  // second pass after that covers events archived between this backfill and their refresh.
  setTimeout(
    () =>
      void backfillGoal(siteId, goal.id, now - MINUTE, Date.now()).catch((e: unknown) =>
        console.error(`[goals] second backfill pass failed: ${(e as Error).message}`),
      ),
    2 * env().DEFINITIONS_REFRESH_MS + 1000,
  ).unref();
  return goal;
}

export async function deleteGoal(siteId: string, goalId: string): Promise<void> {
  if (!isUuid(goalId)) throw new EddyError('not_found', 'Goal not found');
  const r = await pool().query('DELETE FROM goals WHERE id = $1 AND site_id = $2', [goalId, siteId]);
  if (r.rowCount === 0) throw new EddyError('not_found', 'Goal not found');
}

const BACKFILL_PAGE = 5000;

/**
 * Counts a goal over the raw archive for [from, to), with the matcher the insights job uses.
 * Idempotent: conversions are keyed (goal, event), so it may overlap what the job writes.
 */
export async function backfillGoal(siteId: string, goalId: string, from: number, to: number): Promise<number> {
  const g = await pool().query<GoalRowDb>('SELECT * FROM goals WHERE id = $1 AND site_id = $2', [goalId, siteId]);
  const row = g.rows[0];
  if (!row) return 0;
  const matcher = compileMatcher({
    kind: row.kind,
    eventName: row.event_name,
    propKey: row.prop_key,
    propValue: row.prop_value,
    pathPattern: row.path_pattern,
  });
  if (!matcher) return 0;
  let cursor: { ts: Date; id: string } | null = null;
  let written = 0;
  for (;;) {
    const page: {
      rows: {
        event_id: string;
        visitor_id: string;
        ts: Date;
        path: string | null;
        props: Record<string, string | number | boolean> | null;
      }[];
    } = await pool().query(
      `SELECT event_id, visitor_id, ts, record->>'path' AS path, record->'props' AS props FROM events
        WHERE site_id = $1 AND name = $2 AND ts >= $3 AND ts < $4 ${cursor ? 'AND (ts, event_id) > ($6, $7)' : ''}
        ORDER BY ts, event_id LIMIT $5`,
      [
        siteId,
        matcher.eventName,
        new Date(from),
        new Date(to),
        BACKFILL_PAGE,
        ...(cursor ? [cursor.ts, cursor.id] : []),
      ],
    );
    const hits = page.rows.filter((e) =>
      matches(matcher, { name: matcher.eventName, path: e.path ?? '/', props: e.props ?? undefined }),
    );
    if (hits.length) {
      const r = await pool().query(
        `INSERT INTO goal_conversions (goal_id, event_id, site_id, visitor_id, ts)
         SELECT $1, u.e, $2, u.v, u.t FROM unnest($3::uuid[], $4::text[], $5::timestamptz[]) AS u(e, v, t)
         WHERE EXISTS (SELECT 1 FROM goals WHERE id = $1) ON CONFLICT DO NOTHING`,
        [goalId, siteId, hits.map((h) => h.event_id), hits.map((h) => h.visitor_id), hits.map((h) => h.ts)],
      );
      written += r.rowCount ?? 0;
    }
    if (page.rows.length < BACKFILL_PAGE) return written;
    const last = page.rows[page.rows.length - 1]!;
    cursor = { ts: last.ts, id: last.event_id };
  }
}
