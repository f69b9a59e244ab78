import type pg from 'pg';
import { compileMatcher, type CompiledMatcher } from '@/lib/goals/definition';
import { funnelStepSchema, type FunnelScope } from '@/lib/funnels/definition';
import { patternsWithinSiteLimits } from '@/lib/analytics/path-pattern';
import { DimensionTable } from '@/lib/stream';
import type { FunnelSpec } from '../funnels/funnel-tracker';
import { MINUTE } from '@/lib/time';

// The insights and funnels jobs' side input: each site's goals and funnels, compiled (linear-time
// path matchers), in an immutable versioned snapshot swapped on a cadence like the site
// dimensions (workers/shared/dimensions.ts). The version goes into every checkpoint.

export interface CompiledGoal {
  id: string;
  createdAt: number;
  matcher: CompiledMatcher;
}

export interface Definitions {
  goals: Map<string, CompiledGoal[]>;
  funnels: Map<string, FunnelSpec[]>;
  fingerprint: string;
}

export async function loadDefinitions(db: pg.Pool): Promise<Definitions> {
  const goals = await db.query<{
    id: string;
    site_id: string;
    kind: string;
    event_name: string | null;
    prop_key: string | null;
    prop_value: string | null;
    path_pattern: string | null;
    created_at: Date;
  }>(
    'SELECT id, site_id, kind, event_name, prop_key, prop_value, path_pattern, created_at FROM goals ORDER BY site_id, created_at, id',
  );
  const funnels = await db.query<{
    id: string;
    site_id: string;
    steps: unknown;
    scope: FunnelScope;
    window_minutes: number;
  }>('SELECT id, site_id, steps, scope, window_minutes FROM funnels ORDER BY site_id, created_at, id');
  const goalMap = new Map<string, CompiledGoal[]>();
  const bySite = new Map<string, typeof goals.rows>();
  for (const g of goals.rows) bySite.set(g.site_id, [...(bySite.get(g.site_id) ?? []), g]);
  for (const [siteId, rows] of bySite) {
    // The site-wide wildcard budget (path-pattern.ts) applies to goals as to content groups.
    const kept = patternsWithinSiteLimits(rows.slice(0, 50).map((r) => ({ ...r, pattern: r.path_pattern ?? '' })));
    const list: CompiledGoal[] = [];
    for (const r of kept) {
      const matcher = compileMatcher({
        kind: r.kind,
        eventName: r.event_name,
        propKey: r.prop_key,
        propValue: r.prop_value,
        pathPattern: r.path_pattern,
      });
      if (matcher) list.push({ id: r.id, createdAt: r.created_at.getTime(), matcher });
    }
    goalMap.set(siteId, list);
  }
  const funnelMap = new Map<string, FunnelSpec[]>();
  for (const f of funnels.rows) {
    const parsed = funnelStepSchema.array().min(2).max(8).safeParse(f.steps);
    if (!parsed.success) continue; // the API validates; a row written around it is not run
    const steps = parsed.data.map((s) => compileMatcher(s));
    if (steps.some((s) => s === null)) continue;
    const list = funnelMap.get(f.site_id) ?? [];
    if (list.length >= 20) continue;
    list.push({
      id: f.id,
      siteId: f.site_id,
      steps: steps as CompiledMatcher[],
      scope: f.scope,
      windowMs: f.window_minutes * MINUTE,
    });
    funnelMap.set(f.site_id, list);
  }
  const fingerprint = JSON.stringify([
    goals.rows.map((g) => [g.id, g.kind, g.event_name, g.prop_key, g.prop_value, g.path_pattern]),
    funnels.rows.map((f) => [f.id, f.steps, f.scope, f.window_minutes]),
  ]);
  return { goals: goalMap, funnels: funnelMap, fingerprint };
}

/** A DimensionTable of definitions that reloads on a cadence and bumps its version only on change. */
export class DefinitionsTable {
  readonly table = new DimensionTable<Definitions>({ goals: new Map(), funnels: new Map(), fingerprint: '' });
  private timer?: NodeJS.Timeout;

  constructor(private readonly db: pg.Pool) {}

  async refresh(): Promise<void> {
    const next = await loadDefinitions(this.db);
    if (next.fingerprint !== this.table.data.fingerprint) this.table.swap(next);
  }

  start(everyMs: number): void {
    this.timer ??= setInterval(
      () =>
        void this.refresh().catch((e: unknown) =>
          console.error(`[definitions] refresh failed: ${(e as Error).message}`),
        ),
      everyMs,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  goals(siteId: string): readonly CompiledGoal[] {
    return (this.table.data.goals.get(siteId) ?? []) as readonly CompiledGoal[];
  }

  funnels(siteId: string): readonly FunnelSpec[] {
    return (this.table.data.funnels.get(siteId) ?? []) as readonly FunnelSpec[];
  }
}
