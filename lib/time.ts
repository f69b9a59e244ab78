// Durations in milliseconds, the unit of every event time, watermark and window in Eddy. Calendar
// arithmetic (local days, DST) is lib/analytics/time-zone.ts's: a DAY here is 24 hours of UTC.
export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
