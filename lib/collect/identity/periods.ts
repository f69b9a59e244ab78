import { DAY, MINUTE } from '../../time';

export type SaltRotation = 'day' | 'week' | 'month';

/** Start (UTC) of the salt period containing `now`. Weeks start on Monday (ISO). */
export function periodStart(rotation: SaltRotation, now: number): number {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  if (rotation === 'day') return Date.UTC(y, m, day);
  if (rotation === 'month') return Date.UTC(y, m, 1);
  const weekday = (d.getUTCDay() + 6) % 7; // Monday = 0
  return Date.UTC(y, m, day - weekday);
}

/** Start of the period before the one containing `now`. */
export function previousPeriodStart(rotation: SaltRotation, now: number): number {
  return periodStart(rotation, periodStart(rotation, now) - 1);
}

/** Start of the period after the one containing `now`: when its salt rotates. */
export function nextPeriodStart(rotation: SaltRotation, now: number): number {
  // Far enough into the next period whatever its length (a month is at most 31 days).
  const span = { day: DAY, week: 7 * DAY, month: 31 * DAY }[rotation];
  return periodStart(rotation, periodStart(rotation, now) + span);
}

/** For this long after a salt rotates, a visitor active this long before it keeps their old id. */
export const ROTATION_GRACE_MS = 30 * MINUTE;
