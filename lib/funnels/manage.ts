import { pool } from '../db/client';
import { isUuid } from '../auth/access';
import { EddyError } from '../errors';
import { patternsWithinSiteLimits, SITE_MAX_PATH_WILDCARDS } from '../analytics/path-pattern';
import { describeMatcher } from '../goals/definition';
import { MAX_FUNNELS_PER_SITE, type FunnelInput, type FunnelScope, type FunnelStep } from './definition';

// A site's funnels: this module owns the `funnels` table (the funnels job owns funnel_attempts).
// Queries carry the site id the access layer resolved: another site's funnel is "not found".

export interface FunnelView {
  id: string;
  name: string;
  steps: (FunnelStep & { description: string })[];
  scope: FunnelScope;
  windowMinutes: number;
  createdAt: string;
}

interface Row {
  id: string;
  name: string;
  steps: FunnelStep[];
  scope: FunnelScope;
  window_minutes: number;
  created_at: Date;
}

const view = (r: Row): FunnelView => ({
  id: r.id,
  name: r.name,
  steps: r.steps.map((s) => ({ ...s, description: describeMatcher(s) })),
  scope: r.scope,
  windowMinutes: r.window_minutes,
  createdAt: r.created_at.toISOString(),
});

export async function listFunnels(siteId: string): Promise<FunnelView[]> {
  const r = await pool().query<Row>(
    'SELECT id, name, steps, scope, window_minutes, created_at FROM funnels WHERE site_id = $1 ORDER BY created_at, id',
    [siteId],
  );
  return r.rows.map(view);
}

export async function createFunnel(siteId: string, input: FunnelInput): Promise<FunnelView> {
  const existing = await listFunnels(siteId);
  if (existing.length >= MAX_FUNNELS_PER_SITE)
    throw new EddyError('limit_reached', `A site has at most ${MAX_FUNNELS_PER_SITE} funnels`);
  const patterns = input.steps.flatMap((s) => (s.kind === 'page' ? [{ pattern: s.pathPattern }] : []));
  if (patternsWithinSiteLimits(patterns).length < patterns.length)
    throw new EddyError('bad_request', `steps: at most ${SITE_MAX_PATH_WILDCARDS} wildcards in one funnel`);
  const steps = input.steps.map((s) =>
    s.kind === 'event' && !s.propKey ? { label: s.label, kind: s.kind, eventName: s.eventName } : s,
  );
  const r = await pool().query<Row>(
    'INSERT INTO funnels (id, site_id, name, steps, scope, window_minutes) VALUES (gen_random_uuid(), $1, $2, $3, $4, $5) RETURNING id, name, steps, scope, window_minutes, created_at',
    [siteId, input.name, JSON.stringify(steps), input.scope, input.windowMinutes],
  );
  return view(r.rows[0]!);
}

export async function deleteFunnel(siteId: string, funnelId: string): Promise<void> {
  if (!isUuid(funnelId)) throw new EddyError('not_found', 'Funnel not found');
  const r = await pool().query('DELETE FROM funnels WHERE id = $1 AND site_id = $2', [funnelId, siteId]);
  if (r.rowCount === 0) throw new EddyError('not_found', 'Funnel not found');
}
