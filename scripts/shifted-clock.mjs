// Runs a Node process as if its wall clock read another instant, for tests that must pass at any
// hour: `EDDY_TEST_NOW=23:58 npm test -- <files>` (see docs/TESTING.md). Loaded with
// `node --import` (scripts/test.ts puts it in NODE_OPTIONS, so every Node process of the run —
// Vitest's workers, spawned web servers and workers — gets it).
//
// Only `Date` moves, by a constant offset: time keeps flowing, so timeouts, intervals, kafkajs
// heartbeats and performance.now() behave as usual. PostgreSQL's now() and the Kafka broker keep
// the real time.
//
// EDDY_CLOCK_OFFSET_MS (set by scripts/test.ts) wins, so all processes of one run share one
// offset; otherwise it is derived here from EDDY_TEST_NOW and exported to child processes.

const RealDate = globalThis.Date;

/** "HH:MM" → that time of day (UTC) nearest to now; anything else → Date.parse. */
export function clockOffsetFor(spec, realNow = RealDate.now()) {
  const hhmm = /^(\d{2}):(\d{2})$/.exec(spec);
  if (hhmm) {
    const day = 86_400_000;
    const today = Math.floor(realNow / day) * day + (Number(hhmm[1]) * 60 + Number(hhmm[2])) * 60_000;
    const nearest = [today - day, today, today + day].reduce((a, b) =>
      Math.abs(b - realNow) < Math.abs(a - realNow) ? b : a,
    );
    return nearest - realNow;
  }
  const at = RealDate.parse(spec);
  if (Number.isNaN(at))
    throw new Error(`EDDY_TEST_NOW=${spec}: expected HH:MM (UTC) or an ISO instant such as 2026-03-08T06:58:00Z`);
  return at - realNow;
}

let offset = Number(process.env.EDDY_CLOCK_OFFSET_MS || 0);
if (!offset && process.env.EDDY_TEST_NOW) {
  offset = clockOffsetFor(process.env.EDDY_TEST_NOW);
  process.env.EDDY_CLOCK_OFFSET_MS = String(offset);
}

if (offset && globalThis.Date === RealDate) {
  function ShiftedDate(...args) {
    if (!new.target) return new RealDate(RealDate.now() + offset).toString();
    return Reflect.construct(
      RealDate,
      args.length ? args : [RealDate.now() + offset],
      new.target === ShiftedDate ? RealDate : new.target,
    );
  }
  ShiftedDate.prototype = RealDate.prototype;
  // Own copies of the statics (UTC, parse), not only inherited ones: code that wraps Date by
  // copying its own properties (Next.js's server does) would otherwise lose them.
  for (const key of ['UTC', 'parse'])
    Object.defineProperty(ShiftedDate, key, { value: RealDate[key], writable: true, configurable: true });
  Object.setPrototypeOf(ShiftedDate, RealDate);
  ShiftedDate.now = () => RealDate.now() + offset;
  globalThis.Date = ShiftedDate;
}
