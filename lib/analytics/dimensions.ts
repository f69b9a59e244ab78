import { z } from 'zod';

// The breakdowns the dashboard offers, and what each one can measure. The rollups job writes
// pageviews and a visitor sketch per event dimension (the event's own page, source, device…);
// the sessions job writes sessions, bounces and duration per session dimension (the visit's
// first event's source and device, its entry and exit page). Pure: shared with the browser.

export const DIMENSIONS = ['page', 'entry_page', 'exit_page', 'referrer', 'channel', 'utm_source', 'utm_medium', 'utm_campaign', 'country', 'device', 'browser', 'os'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

const EVENT_DIMENSIONS = new Set<Dimension>(['page', 'referrer', 'channel', 'utm_source', 'utm_medium', 'utm_campaign', 'country', 'device', 'browser', 'os']);
const SESSION_DIMENSIONS = new Set<Dimension>(['entry_page', 'exit_page', 'referrer', 'channel', 'utm_source', 'utm_medium', 'utm_campaign', 'country', 'device', 'browser', 'os']);

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

/** Rows are ranked by the measure every row of the dimension has. */
export function rankMeasure(d: Dimension): 'pageviews' | 'sessions' {
  return isEventDimension(d) ? 'pageviews' : 'sessions';
}

const filterValue = z.string().min(1).max(2000);

/** Filters: at most one value per dimension, e.g. `?page=/pricing&country=DE`. */
export const filtersSchema = z.object(Object.fromEntries(DIMENSIONS.map((d) => [d, filterValue.optional()])) as Record<Dimension, z.ZodOptional<typeof filterValue>>);
export type Filters = Partial<Record<Dimension, string>>;

export function activeFilters(f: Filters): [Dimension, string][] {
  return DIMENSIONS.filter((d) => f[d] !== undefined && f[d] !== '').map((d) => [d, f[d]!]);
}
