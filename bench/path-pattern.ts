// Benchmark of content-group pattern matching (lib/analytics/path-pattern.ts), run as
// `npm run bench -- path-pattern [--budget-ms 10000]`. For adversarial patterns (the issue's
// `/**/**/**/**/x` on a path of slashes, `*a*a*a*a*b` on a run of a's, …) and one ordinary
// pattern, at path lengths 100 … 2,000, it times side by side:
// - the baseline: the backtracking regex the workers used before (`**` → `.*`, `*` → `[^/]*`), in
//   a child process killed after --budget-ms per size, because it does not terminate in any
//   useful time on the larger sizes; once a size times out the larger ones are not tried;
// - the linear matcher, in this process, median of 3 rounds of ≥ 100 ms each.
// It prints the ratio per size and the growth exponent (time ∝ length^e: 1 is linear).
// Human-readable lines first; the last line is one JSON object with the figures.

import { spawnSync } from 'node:child_process';
import { compilePathPattern, stepsOf } from '../lib/analytics/path-pattern';
import { legacyGlobToRegExp } from '../lib/analytics/test-support/legacy-glob';

const SIZES = [100, 200, 400, 800, 2000];
const budgetArg = process.argv.indexOf('--budget-ms');
const BUDGET_MS = budgetArg > 0 ? Number(process.argv[budgetArg + 1]) : 10_000;

interface Case {
  name: string;
  pattern: string;
  /** A path of length n; for the adversarial cases one the pattern just fails to match. */
  path: (n: number) => string;
}

const CASES: Case[] = [
  { name: 'issue: /**/**/**/**/x on slashes', pattern: '/**/**/**/**/x', path: (n) => '/'.repeat(n) },
  { name: 'segment stars: /*a*a*a*a*b on a…a', pattern: '/*a*a*a*a*b', path: (n) => `/${'a'.repeat(n - 1)}` },
  { name: 'cross stars: /**a**a**a**a**b on a…a', pattern: '/**a**a**a**a**b', path: (n) => `/${'a'.repeat(n - 1)}` },
  {
    name: 'ordinary: /blog/** on /blog/2026/…',
    pattern: '/blog/**',
    path: (n) => `/blog/${'2026/11/'.repeat(n).slice(0, n - 6)}`,
  },
];

// The baseline, verbatim from workers/shared/dimensions.ts before the fix. It runs in a child
// process (its source is passed as text) so that a runaway match can be killed.

const LEGACY = `
const globToRegExp = ${legacyGlobToRegExp.toString()};
const [pattern, path] = JSON.parse(process.argv[1]);
const re = globToRegExp(pattern);
let reps = 0, matched = false;
const t0 = performance.now();
do { matched = re.test(path); reps++; } while (performance.now() - t0 < 100 && reps < 1e6);
console.log(JSON.stringify({ perMatchMs: (performance.now() - t0) / reps, matched }));
`;

/** ms per match of the old regex, or null when one match did not finish within the budget. */
function baselineMs(pattern: string, path: string): { ms: number | null; matched?: boolean } {
  const r = spawnSync(process.execPath, ['-e', LEGACY, JSON.stringify([pattern, path])], {
    encoding: 'utf8',
    timeout: BUDGET_MS,
    killSignal: 'SIGKILL',
  });
  if (r.status !== 0) return { ms: null };
  const out = JSON.parse(r.stdout.trim()) as { perMatchMs: number; matched: boolean };
  return { ms: out.perMatchMs, matched: out.matched };
}

/** ms per match of the linear matcher: median of 3 rounds of at least 100 ms. */
function linearMs(pattern: string, path: string): { ms: number; matched: boolean } {
  const compiled = compilePathPattern(pattern);
  let matched = false;
  const rounds: number[] = [];
  for (let round = 0; round < 3; round++) {
    let reps = 0;
    const t0 = performance.now();
    do {
      matched = compiled.test(path);
      reps++;
    } while (performance.now() - t0 < 100);
    rounds.push((performance.now() - t0) / reps);
  }
  rounds.sort((a, b) => a - b);
  return { ms: rounds[1]!, matched };
}

/** Least-squares slope of log(time) over log(length): the e in time ∝ length^e. */
function exponent(points: [number, number][]): number | null {
  if (points.length < 2) return null;
  const xs = points.map(([n]) => Math.log(n));
  const ys = points.map(([, t]) => Math.log(t));
  const mx = xs.reduce((a, b) => a + b) / xs.length;
  const my = ys.reduce((a, b) => a + b) / ys.length;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return num / den;
}

const round = (x: number, digits = 3) => Number(x.toPrecision(digits));
const fmt = (ms: number) => (ms >= 1 ? `${round(ms)} ms` : `${round(ms * 1000)} µs`);

console.log(
  `path-pattern benchmark — node ${process.version}; baseline budget ${BUDGET_MS} ms per size; sizes ${SIZES.join(', ')}`,
);
const figures: Record<string, number | null> = {};
let maxLinearExponent = 0;
let maxStepsExponent = 0;
let worstLinearUsAt2000 = 0;
for (const [i, c] of CASES.entries()) {
  console.log(`\n${c.name}`);
  const baseline: [number, number][] = [];
  const linear: [number, number][] = [];
  const stepCounts: [number, number][] = [];
  let timedOut = false;
  for (const n of SIZES) {
    const path = c.path(n);
    const mine = linearMs(c.pattern, path);
    const steps = stepsOf(c.pattern, path).steps;
    linear.push([n, mine.ms]);
    stepCounts.push([n, steps]);
    const tried = !timedOut;
    const old: { ms: number | null; matched?: boolean } = tried ? baselineMs(c.pattern, path) : { ms: null };
    if (old.ms === null) timedOut = true;
    else baseline.push([n, old.ms]);
    if (old.matched !== undefined && old.matched !== mine.matched)
      throw new Error(`results differ for ${c.pattern} at ${n}`);
    const oldText = old.ms === null ? (tried ? `> ${BUDGET_MS} ms (killed)` : 'not tried') : fmt(old.ms);
    const ratio = old.ms !== null ? `${round(old.ms / mine.ms)}×` : tried ? `> ${round(BUDGET_MS / mine.ms)}×` : '–';
    console.log(
      `  n=${String(n).padStart(4)}: linear ${fmt(mine.ms).padStart(9)} (${steps} steps, ${round((mine.ms * 1e6) / n)} ns/char)   regex ${oldText.padStart(9)}   regex/linear ${ratio}`,
    );
  }
  const eLinear = exponent(linear)!;
  const eBaseline = exponent(baseline);
  maxLinearExponent = Math.max(maxLinearExponent, eLinear);
  const eSteps = exponent(stepCounts)!;
  maxStepsExponent = Math.max(maxStepsExponent, eSteps);
  const at2000 = linear[linear.length - 1]![1] * 1000;
  worstLinearUsAt2000 = Math.max(worstLinearUsAt2000, at2000);
  const largestBoth = baseline[baseline.length - 1];
  const ratioAtLargest = largestBoth ? largestBoth[1] / linear.find(([n]) => n === largestBoth[0])![1] : null;
  console.log(
    `  growth: linear steps ∝ n^${round(eSteps, 2)}, time ∝ n^${round(eLinear, 2)}; regex ∝ n^${eBaseline === null ? '?' : round(eBaseline, 2)}${largestBoth ? `; regex/linear at n=${largestBoth[0]} (the largest the regex finished): ${round(ratioAtLargest!)}×` : ''}`,
  );
  const key = `case${i + 1}`;
  figures[`${key}_linear_us_at_2000`] = round(at2000);
  figures[`${key}_linear_exponent`] = round(eLinear, 2);
  figures[`${key}_regex_exponent`] = eBaseline === null ? null : round(eBaseline, 2);
  figures[`${key}_regex_largest_n`] = largestBoth ? largestBoth[0] : null;
  figures[`${key}_regex_vs_linear_at_largest_n`] = ratioAtLargest === null ? null : round(ratioAtLargest);
}
// The gate is on steps, which are exact; time on this shared machine carries ±30 % noise.
console.log(
  `\nworst linear match at n=2000: ${round(worstLinearUsAt2000)} µs; largest growth exponent: steps ${round(maxStepsExponent, 3)} (goal ≤ 1.05: linear), time ${round(maxLinearExponent, 2)}`,
);
console.log(
  JSON.stringify({
    bench: 'path-pattern',
    budget_ms: BUDGET_MS,
    worst_linear_us_at_2000: round(worstLinearUsAt2000),
    max_steps_exponent: round(maxStepsExponent, 3),
    max_time_exponent: round(maxLinearExponent, 2),
    ...figures,
  }),
);
if (maxStepsExponent > 1.05) process.exitCode = 1;
