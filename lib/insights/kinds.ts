// What the insights job rolls up (workers/insights/), and the caps that bound it. Pure: shared
// by the job, the readers and the dashboard.

export const INSIGHT_KINDS = ['event', 'prop', 'outbound', 'download', '404', '404_referrer', 'engagement'] as const;
export type InsightKind = (typeof INSIGHT_KINDS)[number];

/** Sent by the tracker on its own; every other name is a custom event (tracker/README.md). */
export const AUTOMATIC_EVENTS = new Set(['pageview', 'engagement', 'outbound', 'download', '404']);

export const OTHER = '(other)';

/**
 * Per site, minute window and source partition: at most `valuesPerKind` distinct values of one
 * kind (event names, URLs, paths, property triples) and `valuesPerProperty` distinct values of
 * one property key of one event; beyond, "(other)". The rollups' breakdowns use 1,000 per
 * dimension (workers/rollups/minute-stats.ts).
 */
export const INSIGHT_CAPS = { valuesPerKind: 1000, valuesPerProperty: 100 } as const;

/** A `prop` value: event name, key and value joined by the unit separator. */
export const propValueKey = (name: string, key: string, value: string) => `${name}\u001f${key}\u001f${value}`;
