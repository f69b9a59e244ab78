import { z } from 'zod';

// The breakdowns the dashboard offers, and what each one can measure. The rollups job writes
// pageviews and a visitor sketch per event dimension (the event's own page, source, device…);
// the sessions job writes sessions, bounces and duration per session dimension (the visit's
// source and entry page from its landing, device from its first event, its exit page). Pure: shared with the browser.

export const DIMENSIONS = [
  'page',
  'entry_page',
  'exit_page',
  'referrer',
  'channel',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'country',
  'device',
  'browser',
  'os',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

// Where a visit came from and on what: an attribute of each event and of the visit it starts.
const SOURCE_AND_DEVICE: Dimension[] = [
  'referrer',
  'channel',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'country',
  'device',
  'browser',
  'os',
];
const EVENT_DIMENSIONS = new Set<Dimension>(['page', ...SOURCE_AND_DEVICE]);
const SESSION_DIMENSIONS = new Set<Dimension>(['entry_page', 'exit_page', ...SOURCE_AND_DEVICE]);

/**
 * Where visits come from: attributes of a visit, as site owners read them (Plausible filters
 * sessions by source). Only a landing pageview carries one (dimension-registry.ts), and a visit's
 * source is its landing's (its first pageview: workers/sessions/session-stats.ts). Filtered by a source, a view shows the visits from it and every
 * event of those visits (not only the landings); a source's row counts those visits, their
 * visitors and their pageviews (the tables show Visitors, Visits and Bounce, no Views).
 */
const SOURCE_DIMENSIONS = new Set<Dimension>(['referrer', 'channel', 'utm_source', 'utm_medium', 'utm_campaign']);
/** Takes any name: the grouping sets and imported rows name dimensions as strings. */
export const isSourceDimension = (d: string) => SOURCE_DIMENSIONS.has(d as Dimension);

/** Has pageviews and visitors (from events). */
export const isEventDimension = (d: Dimension) => EVENT_DIMENSIONS.has(d);
/** Has sessions, bounces and duration (from visits). */
export const isSessionDimension = (d: Dimension) => SESSION_DIMENSIONS.has(d);

export const dimensionLabel: Record<Dimension, string> = {
  page: 'Page',
  entry_page: 'Entry page',
  exit_page: 'Exit page',
  referrer: 'Referrer',
  channel: 'Channel',
  utm_source: 'UTM source',
  utm_medium: 'UTM medium',
  utm_campaign: 'UTM campaign',
  country: 'Country',
  device: 'Device',
  browser: 'Browser',
  os: 'OS',
};

/** Counted by each event's own value (page, country, device, browser, OS): a source's rows count visits. */
export const isOwnEventDimension = (d: Dimension) => isEventDimension(d) && !isSourceDimension(d);

/** Rows are ranked by the measure every row of the dimension has: a source's by its visits. */
export function rankMeasure(d: Dimension): 'pageviews' | 'sessions' {
  return isOwnEventDimension(d) ? 'pageviews' : 'sessions';
}

const filterValue = z.string().min(1).max(2000);

/**
 * Filters on what a visit did rather than on a dimension's value: `custom_event=Signup` selects
 * the visits with that custom event, `event_prop=plan:pro` those with an event carrying that
 * property (the key is what comes before the first colon; with custom_event, an event of that
 * name). Not breakdowns: no panel is broken down by them.
 */
export const EVENT_FILTERS = ['custom_event', 'event_prop'] as const;
export type EventFilterKey = (typeof EVENT_FILTERS)[number];
export type FilterKey = Dimension | EventFilterKey;
export const FILTER_KEYS: readonly FilterKey[] = [...DIMENSIONS, ...EVENT_FILTERS];

export const filterLabel: Record<FilterKey, string> = {
  ...dimensionLabel,
  custom_event: 'Custom event',
  event_prop: 'Event property',
};

const eventFilterShape = {
  custom_event: z.string().min(1).max(120).optional(),
  event_prop: z
    .string()
    .min(2)
    .max(2000)
    .refine((v) => v.indexOf(':') > 0, 'must be key:value')
    .optional(),
};

/** Filters: at most one value per dimension, e.g. `?page=/pricing&country=DE`, and the event filters. */
export const filtersSchema = z.object({
  ...(Object.fromEntries(DIMENSIONS.map((d) => [d, filterValue.optional()])) as Record<
    Dimension,
    z.ZodOptional<typeof filterValue>
  >),
  ...eventFilterShape,
});
export type Filters = Partial<Record<FilterKey, string>>;

/** The dimension filters that are set (the event filters: `eventFilterOf`). */
export function activeFilters(f: Filters): [Dimension, string][] {
  return DIMENSIONS.filter((d) => f[d] !== undefined && f[d] !== '').map((d) => [d, f[d]!]);
}

/** Every filter that is set, dimensions first: what makes a view filtered, and its cache key. */
export function allActiveFilters(f: Filters): [FilterKey, string][] {
  return FILTER_KEYS.filter((k) => f[k] !== undefined && f[k] !== '').map((k) => [k, f[k]!]);
}

export interface EventFilter {
  /** The custom event's name; null: any event with the property. */
  name: string | null;
  prop: { key: string; value: string } | null;
}

/** `event_prop=plan:pro` → plan, pro (split at the first colon: values may hold colons, e.g. URLs). */
export function splitEventProp(v: string): { key: string; value: string } | null {
  const i = v.indexOf(':');
  return i > 0 ? { key: v.slice(0, i), value: v.slice(i + 1) } : null;
}

export function eventFilterOf(f: Filters): EventFilter | null {
  const name = f.custom_event ? f.custom_event : null;
  const prop = f.event_prop ? splitEventProp(f.event_prop) : null;
  return name === null && prop === null ? null : { name, prop };
}
