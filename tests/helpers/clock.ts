import { localParts } from '@/lib/analytics/time-zone';

/** Time until the next top of the hour on the local clock of `timeZone` (zones at :30 / :45 included). */
export function msToNextLocalHour(now: number, timeZone: string): number {
  const p = localParts(now, timeZone);
  return ((59 - p.minute) * 60 + (60 - p.second)) * 1000 - (now % 1000);
}

/**
 * For a test that checks "today" and "this hour" against a server reading its own clock (the
 * test cannot inject it there): if the local hour — and so possibly the local day — ends within
 * `marginMs`, wait until it has turned, so the test's `now` and the server's stay in one hour.
 * Returns the `now` to use. The data itself stays relative to that `now`.
 */
export async function nowClearOfLocalHourEnd(timeZone: string, marginMs: number): Promise<number> {
  const left = msToNextLocalHour(Date.now(), timeZone);
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 1000));
  return Date.now();
}
