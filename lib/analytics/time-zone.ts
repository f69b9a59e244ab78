// Calendar arithmetic in a site's IANA time zone with nothing but Intl: local dates, and the
// UTC instant of a local midnight (DST-aware). Pure; shared by the server and the browser.

import { DAY, MINUTE } from '@/lib/time';

const formatters = new Map<string, Intl.DateTimeFormat>();
function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  if (!tz || tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function localParts(ts: number, timeZone: string): LocalParts {
  const out: Record<string, number> = {};
  for (const p of partsFormatter(timeZone).formatToParts(new Date(ts)))
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  return {
    year: out.year!,
    month: out.month!,
    day: out.day!,
    hour: out.hour! % 24,
    minute: out.minute!,
    second: out.second!,
  };
}

/** Offset of `timeZone` from UTC at instant `ts`, in ms (positive east of Greenwich). */
export function offsetAt(ts: number, timeZone: string): number {
  const p = localParts(ts, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ts / 1000) * 1000;
}

/** The local calendar date of `ts`, 'YYYY-MM-DD'. */
export function localDate(ts: number, timeZone: string): string {
  return localDay(ts, timeZone).date;
}

function formatLocalDate(ts: number, timeZone: string): string {
  const p = localParts(ts, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/** 'YYYY-MM-DD' plus n calendar days. */
export function addDays(date: string, n: number): string {
  const m = DATE.exec(date);
  if (!m) throw new RangeError(`not a date: ${date}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + n * DAY).toISOString().slice(0, 10);
}

/** Whole days from a to b ('YYYY-MM-DD'). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY);
}

/**
 * The UTC instant of local wall-clock time `date` + `minutes` in `timeZone`. Where a DST gap
 * skips that wall time, the first instant after the gap; where a fall-back repeats it, the first.
 */
export function zonedTime(date: string, timeZone: string, minutes = 0): number {
  const m = DATE.exec(date);
  if (!m) throw new RangeError(`not a date: ${date}`);
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + minutes * MINUTE;
  // Two fixed-point steps settle on the right offset (offsets change at most twice a day).
  let guess = wall - offsetAt(wall, timeZone);
  guess = wall - offsetAt(guess, timeZone);
  const candidates = [
    wall - offsetAt(guess - 3 * 3600_000, timeZone),
    guess,
    wall - offsetAt(guess + 3 * 3600_000, timeZone),
  ];
  const exact = candidates.filter((c) => c + offsetAt(c, timeZone) === wall).sort((a, b) => a - b);
  if (exact.length) return exact[0]!;
  // In a gap: the instant the clocks jumped past this wall time.
  const after = candidates.filter((c) => c + offsetAt(c, timeZone) > wall);
  return after.length ? Math.min(...after) : guess;
}

/** UTC instant of local midnight starting `date`. */
export function zonedMidnight(date: string, timeZone: string): number {
  return zonedTime(date, timeZone, 0);
}

/**
 * UTC instant at which the local calendar day containing `ts` starts. The offset is the one in
 * force at that midnight, not at `ts`: on a DST day the two differ, and every event of the day
 * must land in one bucket (days are 23 or 25 hours long there).
 */
export function localDayStart(ts: number, timeZone: string): number {
  const day = localDay(ts, timeZone);
  // A date beyond year 9999 has no midnight here: zonedMidnight refuses it, as it always did.
  return Number.isNaN(day.start) ? zonedMidnight(day.date, timeZone) : day.start;
}

interface LocalDay {
  date: string;
  start: number;
  /** The next local day's start. */
  end: number;
}

/** Days a zone remembers: the jobs see a few days at most (today, late events of yesterday). */
const DAYS_PER_ZONE = 4;
const knownDays = new Map<string, LocalDay[]>();

/**
 * The local day containing `ts`, from the days already worked out for this zone when it is one of
 * them. The workers ask for every event's day: worked out afresh it is ~8 Intl.formatToParts calls
 * (a local date, then the midnight's offset settled by fixed-point steps), 6 % of a worker's CPU
 * at 1,000 events/s in a profile. A day is one interval [start, end), so a hit is exact.
 */
function localDay(ts: number, timeZone: string): LocalDay {
  let days = knownDays.get(timeZone);
  if (days) {
    for (const d of days) if (ts >= d.start && ts < d.end) return d;
  } else {
    if (knownDays.size >= 64) knownDays.clear();
    knownDays.set(timeZone, (days = []));
  }
  const date = formatLocalDate(ts, timeZone);
  // localDate answers for any instant Date can hold; only four-digit years have a midnight here.
  if (!DATE.test(date)) return { date, start: Number.NaN, end: Number.NaN };
  const start = zonedMidnight(date, timeZone);
  const end = zonedMidnight(addDays(date, 1), timeZone);
  const day = { date, start, end };
  // A day is remembered only when every instant in [start, end) has this date. With the same UTC
  // offset at its first and last instant, local time runs straight through it (two changes that
  // cancel within one day are not in the tz database's present or recent rules). With one change
  // (a DST day), it does unless the clocks were set back to before this date's midnight — were
  // they set back across midnight after the new date had begun, instants of the earlier date would
  // follow its start; such a day is worked out each time, as before.
  if (ts >= start && ts < end && runsThrough(start, end, timeZone)) {
    days.unshift(day);
    if (days.length > DAYS_PER_ZONE) days.pop();
  }
  return day;
}

/** Whether local time stays within [its value at `start`, the next midnight) over [start, end). */
function runsThrough(start: number, end: number, timeZone: string): boolean {
  const first = offsetAt(start, timeZone);
  const last = offsetAt(end - 1, timeZone);
  if (first === last) return true;
  // The change: the first second whose offset is not the start's (offsets change on whole
  // seconds). ~17 steps, once per DST day and zone, where each event of the day otherwise cost
  // ~19 Intl calls.
  let lo = Math.floor(start / 1000);
  let hi = Math.floor((end - 1) / 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid * 1000, timeZone) === first) lo = mid;
    else hi = mid;
  }
  const change = hi * 1000;
  if (offsetAt(change, timeZone) !== last) return false; // more than one change: work it out each time
  // Set forward, local time jumps ahead (never past the next midnight: `end` is the first instant
  // of the next date). Set back, it must not go back before this date's midnight.
  return change + last >= start + first;
}
