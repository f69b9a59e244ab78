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
