import type { EventRecord } from '../events/record';
import { DIMENSIONS, type Dimension, type EventFilter } from './dimensions';

// How each dimension of dimensions.ts is read, in one place for every reader: the rollups and
// sessions jobs (TS, from a record and from a visit's `sessions` row), the value dictionary and the
// facts, the backfill, the raw-events engine and the insights segments (SQL over the archive's
// `record` jsonb and over `sessions`), and the test oracle (names and labels). A value of null is
// "none": the event or visit is not counted under that dimension.

/** The label of an arrival without a referrer, and of a visit that began with one. */
export const NO_REFERRER = '(direct)';
/** The label of an event or visit whose country is not known. */
export const NO_COUNTRY = '(unknown)';
/** The channel of a visit that began with a navigation inside the site (a tab left open past the gap). */
export const DIRECT_CHANNEL = 'direct';

/**
 * Sources are where visits come from: a navigation inside the site (an SPA's route change, a link
 * between its own hosts) is no source, or the site would be its own top referrer and "internal"
 * the top channel.
 */
export const isInternalNavigation = (e: Pick<EventRecord, 'channel'>) => e.channel === 'internal';

/**
 * Only a landing says where a visit came from: a pageview that is no internal navigation. The
 * tracker sends the referrer with pageviews alone, so an engagement ping or a custom event would
 * otherwise count its visitor under "(direct)" beside the source they came from (a visitor from
 * a blog listed under both, found by a walk-through).
 */
const notALanding = (e: Pick<EventRecord, 'channel' | 'name'>) => e.name !== 'pageview' || isInternalNavigation(e);

/** The kinds of dictionary values (`dimension_values.dimension`); entry and exit pages are pages. */
export type ValueKind =
  | 'page'
  | 'referrer'
  | 'channel'
  | 'utm_source'
  | 'utm_medium'
  | 'utm_campaign'
  | 'country'
  | 'device'
  | 'browser'
  | 'os';

/** The columns of a `sessions` row that hold its dimension values (the sessions job writes them from the visit's first and last event). */
export interface VisitColumns {
  entry_path: string;
  exit_path: string;
  channel: string;
  referrer_host: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  device: string;
  browser: string;
  os: string;
  country: string | null;
}

export interface EventReading {
  /** The event's own value. */
  of: (e: EventRecord) => string | null;
  /** The same, as SQL over an archived event's jsonb `record` (the expression given). */
  sql: (record: string) => string;
}

export interface VisitReading {
  column: keyof VisitColumns;
  /** The visit's value, from its `sessions` row. */
  of: (s: VisitColumns) => string | null;
  /** The same, as SQL over a `sessions` row (the alias given). */
  sql: (alias: string) => string;
  /**
   * The value from the visit's events: that event dimension's value of its first event, its last
   * (exit page), or its landing — the first pageview, else the first event (entry page and
   * sources: workers/sessions/session-stats.ts `visitAttribution`); `orElse` where it has none.
   */
  fromEvents: { pick: 'first' | 'last' | 'landing'; event: Dimension; orElse: string | null };
}

export interface DimensionSpec {
  name: Dimension;
  kind: ValueKind;
  /** The label of "no value" where a dimension has one (the value is then never null). */
  emptyLabel: string | null;
  /** Null: not an event dimension (isEventDimension agrees: dimension-registry.test.ts). */
  event: EventReading | null;
  /** Null: not a visit dimension (isSessionDimension agrees). */
  visit: VisitReading | null;
}

/** A string as an SQL literal. */
export const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;

const sqlNotALanding = (record: string) =>
  `(${record}->>'name' IS DISTINCT FROM 'pageview' OR ${record}->>'channel' = 'internal')`;
// The archive's old records may lack fields the record schema now defaults: the same defaults.
const withDefault = (record: string, field: string, empty: string) =>
  `coalesce(${record}->>'${field}', ${sqlText(empty)})`;
// An empty UTM value is no value.
const utm = (part: 'source' | 'medium' | 'campaign'): EventReading => ({
  of: (e) => (notALanding(e) ? null : e.utm?.[part] || null),
  sql: (record) => `CASE WHEN ${sqlNotALanding(record)} THEN NULL ELSE nullif(${record}->'utm'->>'${part}', '') END`,
});
const utmOfVisit = (column: 'utm_source' | 'utm_medium' | 'utm_campaign'): VisitReading => ({
  column,
  of: (s) => s[column] || null,
  sql: (alias) => `nullif(${alias}.${column}, '')`,
  fromEvents: { pick: 'landing', event: column, orElse: null },
});

const SPECS: Record<Dimension, Omit<DimensionSpec, 'name'>> = {
  page: {
    kind: 'page',
    emptyLabel: null,
    event: { of: (e) => e.path, sql: (r) => withDefault(r, 'path', '/') },
    visit: null,
  },
  entry_page: {
    kind: 'page',
    emptyLabel: null,
    event: null,
    visit: {
      column: 'entry_path',
      of: (s) => s.entry_path,
      sql: (a) => `${a}.entry_path`,
      fromEvents: { pick: 'landing', event: 'page', orElse: null },
    },
  },
  exit_page: {
    kind: 'page',
    emptyLabel: null,
    event: null,
    visit: {
      column: 'exit_path',
      of: (s) => s.exit_path,
      sql: (a) => `${a}.exit_path`,
      fromEvents: { pick: 'last', event: 'page', orElse: null },
    },
  },
  referrer: {
    kind: 'referrer',
    emptyLabel: NO_REFERRER,
    event: {
      of: (e) => (notALanding(e) ? null : (e.referrerHost ?? NO_REFERRER)),
      sql: (r) => `CASE WHEN ${sqlNotALanding(r)} THEN NULL ELSE ${withDefault(r, 'referrerHost', NO_REFERRER)} END`,
    },
    visit: {
      column: 'referrer_host',
      of: (s) => s.referrer_host ?? NO_REFERRER,
      sql: (a) => `coalesce(${a}.referrer_host, ${sqlText(NO_REFERRER)})`,
      fromEvents: { pick: 'landing', event: 'referrer', orElse: NO_REFERRER },
    },
  },
  channel: {
    kind: 'channel',
    emptyLabel: null,
    event: {
      of: (e) => (notALanding(e) ? null : e.channel),
      sql: (r) => `CASE WHEN ${sqlNotALanding(r)} THEN NULL ELSE ${withDefault(r, 'channel', DIRECT_CHANNEL)} END`,
    },
    visit: {
      column: 'channel',
      of: (s) => s.channel,
      sql: (a) => `${a}.channel`,
      fromEvents: { pick: 'landing', event: 'channel', orElse: DIRECT_CHANNEL },
    },
  },
  utm_source: { kind: 'utm_source', emptyLabel: null, event: utm('source'), visit: utmOfVisit('utm_source') },
  utm_medium: { kind: 'utm_medium', emptyLabel: null, event: utm('medium'), visit: utmOfVisit('utm_medium') },
  utm_campaign: { kind: 'utm_campaign', emptyLabel: null, event: utm('campaign'), visit: utmOfVisit('utm_campaign') },
  country: {
    kind: 'country',
    emptyLabel: NO_COUNTRY,
    event: { of: (e) => e.country ?? NO_COUNTRY, sql: (r) => withDefault(r, 'country', NO_COUNTRY) },
    visit: {
      column: 'country',
      of: (s) => s.country ?? NO_COUNTRY,
      sql: (a) => `coalesce(${a}.country, ${sqlText(NO_COUNTRY)})`,
      fromEvents: { pick: 'first', event: 'country', orElse: null },
    },
  },
  device: {
    kind: 'device',
    emptyLabel: null,
    event: { of: (e) => e.device, sql: (r) => withDefault(r, 'device', 'other') },
    visit: {
      column: 'device',
      of: (s) => s.device,
      sql: (a) => `${a}.device`,
      fromEvents: { pick: 'first', event: 'device', orElse: null },
    },
  },
  browser: {
    kind: 'browser',
    emptyLabel: null,
    event: { of: (e) => e.browser, sql: (r) => withDefault(r, 'browser', 'Unknown') },
    visit: {
      column: 'browser',
      of: (s) => s.browser,
      sql: (a) => `${a}.browser`,
      fromEvents: { pick: 'first', event: 'browser', orElse: null },
    },
  },
  os: {
    kind: 'os',
    emptyLabel: null,
    event: { of: (e) => e.os, sql: (r) => withDefault(r, 'os', 'Unknown') },
    visit: {
      column: 'os',
      of: (s) => s.os,
      sql: (a) => `${a}.os`,
      fromEvents: { pick: 'first', event: 'os', orElse: null },
    },
  },
};

/** Every dimension, in DIMENSIONS' order. */
export const DIMENSION_SPECS: readonly DimensionSpec[] = DIMENSIONS.map((name) => ({ name, ...SPECS[name] }));

export const dimensionSpec = (d: Dimension): DimensionSpec => ({ name: d, ...SPECS[d] });

/** How an event dimension is read from an event (an invariant: the caller chose an event dimension). */
export function eventReading(d: Dimension): EventReading {
  const r = SPECS[d].event;
  if (!r) throw new Error(`${d} is not an event dimension`);
  return r;
}

/** How a visit dimension is read from a visit (an invariant: the caller chose a visit dimension). */
export function visitReading(d: Dimension): VisitReading {
  const r = SPECS[d].visit;
  if (!r) throw new Error(`${d} is not a visit dimension`);
  return r;
}

type With<K extends 'event' | 'visit'> = DimensionSpec & { [P in K]: NonNullable<DimensionSpec[P]> };

/** The dimensions an event has a value of (pageviews, visitors), in DIMENSIONS' order. */
export const EVENT_SPECS: readonly With<'event'>[] = DIMENSION_SPECS.flatMap((s) =>
  s.event ? [{ ...s, event: s.event }] : [],
);
/** The dimensions a visit has a value of (sessions, bounces, duration), in DIMENSIONS' order. */
export const VISIT_SPECS: readonly With<'visit'>[] = DIMENSION_SPECS.flatMap((s) =>
  s.visit ? [{ ...s, visit: s.visit }] : [],
);

/** An event's values per event dimension (null: none). */
export function eventDimensionValues(e: EventRecord): [With<'event'>, string | null][] {
  return EVENT_SPECS.map((s) => [s, s.event.of(e)]);
}

/** A visit's values per visit dimension (null: none). */
export function visitDimensionValues(s: VisitColumns): [With<'visit'>, string | null][] {
  return VISIT_SPECS.map((d) => [d, d.visit.of(s)]);
}

/** A custom event's name (event_facts kind 2): not a pageview nor an engagement ping. */
export function isCustomEventName(name: string | null): name is string {
  return name !== null && name !== 'pageview' && name !== 'engagement';
}

/**
 * The archived events an event filter matches (a row of `events`): server requests are in no
 * visit; properties compare as text, as goals do ("3", "true"). `add` binds a parameter.
 */
export function matchedEventsWhere(f: EventFilter, add: (v: unknown) => string): string {
  // A custom event's name: the partial index of custom events (its predicate repeated, so the
  // planner may use it whatever the parameter's value).
  const custom = isCustomEventName(f.name);
  return `record->'request' IS NULL${f.name !== null ? ` AND name = ${add(f.name)}` : ''}${
    custom ? ` AND name NOT IN ('pageview', 'engagement')` : ''
  }${f.prop ? ` AND record->'props'->>${add(f.prop.key)}::text = ${add(f.prop.value)}` : ''}`;
}
