import { z } from 'zod';
import {
  compilePathPattern,
  PATH_PATTERN_MAX_LENGTH,
  withinPathPatternLimits,
  type PathPattern,
} from '../analytics/path-pattern';
import { MAX_PROP_KEY_BYTES, MAX_PROP_VALUE_BYTES } from '../collect/payload';

// What a goal (and a funnel step) matches: a custom event by name, optionally with one property
// equal to a value, or a pageview whose path matches a glob. Pure: shared by the workers (per
// event, for every tenant on a partition — hence compiled, linear-time path matching), the API's
// validation and the settings form.

export const MAX_GOALS_PER_SITE = 50;

const text = (max: number) => z.string().trim().min(1).max(max);

export const matcherSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('event'),
    eventName: text(120),
    propKey: z.string().trim().max(MAX_PROP_KEY_BYTES).optional(),
    propValue: z.string().max(MAX_PROP_VALUE_BYTES).optional(),
  }),
  z.object({
    kind: z.literal('page'),
    pathPattern: text(PATH_PATTERN_MAX_LENGTH)
      .refine((p) => p.startsWith('/'), 'must start with /')
      .refine(withinPathPatternLimits, 'at most 8 wildcards'),
  }),
]);
export type MatcherInput = z.infer<typeof matcherSchema>;

export const goalInputSchema = z.intersection(z.object({ name: text(120) }), matcherSchema);
export type GoalInput = z.infer<typeof goalInputSchema>;

/** A stored goal or step row, as the tables hold it. */
export interface MatcherRow {
  kind: string;
  eventName?: string | null;
  propKey?: string | null;
  propValue?: string | null;
  pathPattern?: string | null;
}

export interface CompiledMatcher {
  kind: 'event' | 'page';
  eventName: string;
  propKey: string;
  propValue: string;
  pattern: PathPattern | null;
}

export interface MatchableEvent {
  name: string;
  path: string;
  props?: Record<string, string | number | boolean>;
}

/** Null for a row the save-time rules would refuse (never matched, so no stored row costs more than the caps allow). */
export function compileMatcher(row: MatcherRow): CompiledMatcher | null {
  if (row.kind === 'event' && row.eventName) {
    return {
      kind: 'event',
      eventName: row.eventName,
      propKey: row.propKey ?? '',
      propValue: row.propValue ?? '',
      pattern: null,
    };
  }
  if (row.kind === 'page' && row.pathPattern && withinPathPatternLimits(row.pathPattern)) {
    return {
      kind: 'page',
      eventName: 'pageview',
      propKey: '',
      propValue: '',
      pattern: compilePathPattern(row.pathPattern),
    };
  }
  return null;
}

export function matches(m: CompiledMatcher, e: MatchableEvent): boolean {
  if (e.name !== m.eventName) return false;
  if (m.kind === 'page') return m.pattern!.test(e.path);
  if (m.propKey === '') return true;
  const v = e.props?.[m.propKey];
  // Properties arrive as string | number | boolean; a goal compares their text ("3", "true").
  return v !== undefined && String(v) === m.propValue;
}

/** "Signup (plan = pro)", "Visit /pricing/**": how a goal or step reads in lists. */
export function describeMatcher(m: MatcherRow): string {
  if (m.kind === 'page') return `Visit ${m.pathPattern ?? ''}`;
  return m.propKey ? `${m.eventName} (${m.propKey} = ${m.propValue ?? ''})` : (m.eventName ?? '');
}
