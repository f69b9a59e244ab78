// Path globs for content groups (and the goals and funnels to come): "/blog/**", "/docs/*/api".
// A site admin writes the pattern and anyone on the internet writes the path, and both meet in the
// shared workers once per event, so matching must cost time linear in the path whatever the two
// are. A backtracking regex (`^/.*/.*/.*/.*/x$`) costs ~length^5 on a path of slashes: one 430-byte
// pageview held every tenant on its partition for 14 s. Pure: shared with the browser.
//
// Semantics (unchanged from the regex the workers used before, and pinned by a property test
// against it):
// - the whole path must match (anchored at both ends); there is no special meaning for "?", "[",
//   ".", or a query string — every other character matches itself, case-sensitively, per UTF-16
//   code unit;
// - "*" matches any run of characters except "/" (stays within one path segment);
// - "**" matches any run of characters except line terminators (\n, \r, U+2028, U+2029, which the
//   regex's "." excluded; collected paths are URL pathnames and never contain them);
// - "***" is "**" followed by "*"; "****" is "**" twice.
//
// How: the pattern is split at its wildcards into literals, L0 W1 L1 … Wk Lk. The matcher keeps
// the set of path positions the pattern prefix can have reached (a bitmap of path length + 1)
// and advances it one token at a time: a wildcard extends every reached position forward over
// the characters it allows (one sweep), a literal keeps the positions where it occurs next (one
// Knuth–Morris–Pratt scan, precomputed at compile time). Nothing is ever retried, so a match costs
// at most ~3·(k + 1)·(path length) steps plus the pattern length — `stepsOf` counts them.

/** Save-time limits; the caps on wildcards bound the constant factor, per pattern and per event. */
export const PATH_PATTERN_MAX_LENGTH = 200;
export const PATH_PATTERN_MAX_WILDCARDS = 8;
/** All of a site's patterns run on each of its events: ≤ ~3 · (40 + 50) · 2,000 steps an event. */
export const SITE_MAX_PATH_WILDCARDS = 40;
/** Longer paths match no pattern. The event schema already caps paths at 2,000 characters. */
export const MATCHED_PATH_MAX_LENGTH = 2000;

type Wildcard = 'segment' | 'any';

interface Step {
  wildcard: Wildcard;
  /** The literal that follows the wildcard ('' when another wildcard or the end follows). */
  literal: string;
  /** KMP failure function of `literal`. */
  failure: Int32Array;
}

export interface PathPattern {
  readonly source: string;
  /** Same contract as RegExp#test, so it drops in where a compiled regex was. */
  test(path: string): boolean;
}

/** A step meter for tests and benchmarks: the number of inner-loop iterations a match took. */
export interface MatchMeter {
  steps: number;
}

const SLASH = 0x2f;
const isLineTerminator = (c: number) => c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;

/** "*" and "**" each count one, as the matcher reads them ("***" is two). */
export function wildcardCount(pattern: string): number {
  return tokenize(pattern).wildcards;
}

/**
 * The save-time caps, for readers of stored patterns: one saved before the caps existed (or
 * written to the database directly) is not matched at all, so no stored row can raise the cost
 * of an event above the bound the caps promise.
 */
export function withinPathPatternLimits(pattern: string): boolean {
  return pattern.length <= PATH_PATTERN_MAX_LENGTH && wildcardCount(pattern) <= PATH_PATTERN_MAX_WILDCARDS;
}

/** The patterns of one site, in order, that the caps allow: over the site's total, the rest drop. */
export function patternsWithinSiteLimits<T extends { pattern: string }>(groups: readonly T[]): T[] {
  let total = 0;
  return groups.filter((g) => {
    if (!withinPathPatternLimits(g.pattern)) return false;
    total += wildcardCount(g.pattern);
    return total <= SITE_MAX_PATH_WILDCARDS;
  });
}

function tokenize(glob: string): { head: string; steps: { wildcard: Wildcard; literal: string }[]; wildcards: number } {
  const steps: { wildcard: Wildcard; literal: string }[] = [];
  let head = '';
  let wildcards = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c !== '*') {
      if (steps.length) steps[steps.length - 1]!.literal += c;
      else head += c;
      continue;
    }
    // Left to right, "**" first: the same pairing the regex translation made.
    const wildcard: Wildcard = glob[i + 1] === '*' ? 'any' : 'segment';
    if (wildcard === 'any') i++;
    wildcards++;
    const prev = steps[steps.length - 1];
    // W W with nothing between is W: reaching forward twice over the same characters reaches
    // nowhere new. ("** *" is not "**": the first can cross "/", the second a line terminator.)
    if (prev && prev.literal === '' && prev.wildcard === wildcard) continue;
    steps.push({ wildcard, literal: '' });
  }
  return { head, steps, wildcards };
}

function failureOf(literal: string): Int32Array {
  const f = new Int32Array(literal.length);
  for (let i = 1, k = 0; i < literal.length; i++) {
    while (k > 0 && literal.charCodeAt(i) !== literal.charCodeAt(k)) k = f[k - 1]!;
    if (literal.charCodeAt(i) === literal.charCodeAt(k)) k++;
    f[i] = k;
  }
  return f;
}

/** Compiles once per pattern (at dimension load), then `test` runs in linear time. */
export function compilePathPattern(source: string): PathPattern {
  const { head, steps: raw } = tokenize(source);
  const steps: Step[] = raw.map((s) => ({ ...s, failure: failureOf(s.literal) }));
  return {
    source,
    test: (path: string) => matches(head, steps, path, undefined),
  };
}

/** Matches and counts the steps taken: the linear bound is asserted on this, not on a clock. */
export function stepsOf(source: string, path: string): { matched: boolean; steps: number } {
  const { head, steps: raw } = tokenize(source);
  const meter: MatchMeter = { steps: 0 };
  const matched = matches(
    head,
    raw.map((s) => ({ ...s, failure: failureOf(s.literal) })),
    path,
    meter,
  );
  return { matched, steps: meter.steps };
}

// Reused by every match instead of allocating two bitmaps per event and pattern: a match runs to
// completion synchronously and never calls out, so no two matches can use them at the same time.
// Only positions at or after `from` are read, and those are cleared before use.
const scratchA = new Uint8Array(MATCHED_PATH_MAX_LENGTH + 1);
const scratchB = new Uint8Array(MATCHED_PATH_MAX_LENGTH + 1);

function matches(head: string, steps: readonly Step[], path: string, meter: MatchMeter | undefined): boolean {
  const n = path.length;
  if (n > MATCHED_PATH_MAX_LENGTH) return false;
  let count = head.length;
  const done = (result: boolean) => {
    if (meter) meter.steps += count;
    return result;
  };
  if (steps.length === 0) return done(path === head);
  // Most paths fail on the leading literal ("/blog/"): decide those first.
  if (!path.startsWith(head)) return done(false);
  if (steps.length === 1) {
    // One wildcard ("/blog/**", "/docs/*/api"): the only reached position is the end of the head,
    // so the wildcard must cover exactly what lies between head and tail. No bitmap needed.
    const { wildcard, literal } = steps[0]!;
    const end = n - literal.length;
    count += literal.length;
    if (end < head.length || !path.endsWith(literal)) return done(false);
    for (let q = head.length; q < end; q++) {
      count++;
      const c = path.charCodeAt(q);
      if (wildcard === 'any' ? isLineTerminator(c) : c === SLASH) return done(false);
    }
    return done(true);
  }

  let reached = scratchA;
  let next = scratchB;
  reached.fill(0, head.length, n + 1);
  reached[head.length] = 1;
  let from = head.length; // no position before this one is reached

  for (let s = 0; s < steps.length; s++) {
    const { wildcard, literal, failure } = steps[s]!;
    const any = wildcard === 'any';
    // Wildcard: a position is reached if it was, or the one before was and the wildcard
    // allows the character between them.
    let on = false;
    for (let q = from; q <= n; q++) {
      if (on && q > from) {
        const c = path.charCodeAt(q - 1);
        on = any ? !isLineTerminator(c) : c !== SLASH;
      }
      if (reached[q] === 1) on = true;
      else if (on) reached[q] = 1;
    }
    count += n + 1 - from;
    const m = literal.length;
    if (s === steps.length - 1) {
      // The last literal can only sit at the very end of the path.
      if (m === 0) return done(reached[n] === 1);
      count += m;
      return done(n - m >= from && reached[n - m] === 1 && path.endsWith(literal));
    }
    if (m === 0) continue;

    // Literal: keep the ends of its occurrences that start at a reached position.
    next.fill(0, from, n + 1);
    let first = -1;
    for (let i = from, j = 0; i < n; i++) {
      const c = path.charCodeAt(i);
      while (j > 0 && c !== literal.charCodeAt(j)) {
        j = failure[j - 1]!;
        count++;
      }
      if (c === literal.charCodeAt(j)) j++;
      count++;
      if (j === m) {
        const end = i + 1;
        if (reached[end - m] === 1) {
          next[end] = 1;
          if (first < 0) first = end;
        }
        j = failure[j - 1]!;
      }
    }
    if (first < 0) return done(false);
    [reached, next] = [next, reached];
    from = first;
  }
  return done(false); // unreachable: the last step returns
}
