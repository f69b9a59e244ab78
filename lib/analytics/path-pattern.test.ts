import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentGroupSchema, updateSiteSchema } from '../sites/settings';
import {
  compilePathPattern,
  MATCHED_PATH_MAX_LENGTH,
  PATH_PATTERN_MAX_WILDCARDS,
  patternsWithinSiteLimits,
  SITE_MAX_PATH_WILDCARDS,
  stepsOf,
  wildcardCount,
  withinPathPatternLimits,
} from './path-pattern';
import { legacyGlobToRegExp } from './test-support/legacy-glob';

// The oracle: the backtracking translation the workers used until the ReDoS (issue 13, item 2).
// Kept here only, to pin that the linear matcher has exactly its semantics; it is safe on the
// small inputs the properties generate.

// Small alphabets make matches and near-misses common; the extra characters are the ones the
// semantics single out (segment separator, line terminators, regex metacharacters, surrogates).
const patternChar = fc.constantFrom('/', '*', '*', 'a', 'b', '.', '?', '\n', '\u2028', '(', '[', '\\', '$', '\ud800');
const pathChar = fc.constantFrom(
  '/',
  'a',
  'b',
  '.',
  '?',
  '*',
  '\n',
  '\r',
  '\u2029',
  '(',
  '[',
  '\\',
  '$',
  '\ud800',
  '\udc00',
);
const pattern = fc.array(patternChar, { maxLength: 12 }).map((cs) => cs.join(''));
const path = fc.array(pathChar, { maxLength: 16 }).map((cs) => cs.join(''));

/** A path built from the pattern, each wildcard replaced by a random filler: often a match. */
const patternAndNearMatch = fc
  .tuple(
    pattern,
    fc.array(
      fc.array(pathChar, { maxLength: 4 }).map((cs) => cs.join('')),
      { minLength: 12, maxLength: 12 },
    ),
  )
  .map(([p, fillers]) => {
    let i = 0;
    return [p, p.replace(/\*\*?/g, () => fillers[i++ % fillers.length]!)] as const;
  });

describe('path patterns', () => {
  it('match exactly what the old regex translation matched, on arbitrary small patterns and paths', () => {
    fc.assert(
      fc.property(pattern, path, (p, s) => {
        expect(compilePathPattern(p).test(s)).toBe(legacyGlobToRegExp(p).test(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('match exactly what the old regex matched on paths built from the pattern itself', () => {
    fc.assert(
      fc.property(patternAndNearMatch, ([p, s]) => {
        expect(compilePathPattern(p).test(s)).toBe(legacyGlobToRegExp(p).test(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('match exactly what the old regex matched on arbitrary Unicode', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 10 }),
        fc.string({ unit: 'binary', maxLength: 14 }),
        (p, s) => {
          expect(compilePathPattern(p).test(s)).toBe(legacyGlobToRegExp(p).test(s));
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('"*" stays within a segment, "**" crosses segments, and everything else is literal and anchored', () => {
    expect(compilePathPattern('/blog/**').test('/blog/2026/11/post')).toBe(true);
    expect(compilePathPattern('/blog/**').test('/blog')).toBe(false);
    expect(compilePathPattern('/docs/*').test('/docs/api/v2')).toBe(false);
    expect(compilePathPattern('/docs/*/api').test('/docs/v2/api')).toBe(true);
    expect(compilePathPattern('/a.b').test('/axb')).toBe(false);
    expect(compilePathPattern('/search?q=*').test('/search?q=x')).toBe(true);
    expect(compilePathPattern('/search?q=*').test('/searchq=x')).toBe(false);
    expect(compilePathPattern('/x').test('/x/')).toBe(false);
    expect(compilePathPattern('/ab*ab*abc').test('/abxabababc')).toBe(true);
  });

  it("the issue's pathological pattern and a 2,000-character path of slashes take a linear number of steps", () => {
    const slashes = '/'.repeat(MATCHED_PATH_MAX_LENGTH);
    for (const p of ['/**/**/**/**/x', '/*a*a*a*a*b', '/**a**a**a**a**b', '/**/*/**/*/**/*/**/*x']) {
      const path = p.includes('a') ? `/${'a'.repeat(MATCHED_PATH_MAX_LENGTH - 1)}` : slashes;
      const { matched, steps } = stepsOf(p, path);
      expect(matched).toBe(false);
      // Each wildcard sweeps the path once and each literal is one KMP scan (≤ 2 steps a character).
      expect(steps).toBeLessThanOrEqual((wildcardCount(p) + 1) * 3 * (path.length + 1) + p.length);
    }
    // And on a clock, generously (a backtracking regex takes hours here, not milliseconds).
    const started = performance.now();
    expect(compilePathPattern('/**/**/**/**/x').test(slashes)).toBe(false);
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('steps grow linearly with the path: each added character costs the same number of steps', () => {
    for (const p of ['/**/**/**/**/x', '/*a*a*a*a*b', '/**a**a**a**a**b']) {
      const at = (n: number) => stepsOf(p, p.includes('a') ? `/${'a'.repeat(n - 1)}` : '/'.repeat(n)).steps;
      // Affine in n: the next 800 characters cost twice what the 400 before them did (a quadratic
      // cost would be 4×), up to a few steps of rounding per wildcard.
      expect(at(1600) - at(800)).toBeLessThanOrEqual(2 * (at(800) - at(400)) + 16);
    }
  });

  it('a path longer than any collected path matches nothing, so cost stays bounded', () => {
    expect(compilePathPattern('/**').test(`/${'a'.repeat(MATCHED_PATH_MAX_LENGTH - 1)}`)).toBe(true);
    expect(compilePathPattern('/**').test(`/${'a'.repeat(MATCHED_PATH_MAX_LENGTH)}`)).toBe(false);
  });

  it('saving a pattern with more wildcards than the cap is refused with the reason', () => {
    const ok = `/${'*/'.repeat(PATH_PATTERN_MAX_WILDCARDS)}`;
    const tooMany = `/${'*/'.repeat(PATH_PATTERN_MAX_WILDCARDS + 1)}`;
    expect(contentGroupSchema.safeParse({ name: 'G', pattern: ok }).success).toBe(true);
    const r = contentGroupSchema.safeParse({ name: 'G', pattern: tooMany });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe(`may contain at most ${PATH_PATTERN_MAX_WILDCARDS} wildcards (* or **)`);
    expect(contentGroupSchema.safeParse({ name: 'G', pattern: `/${'a'.repeat(200)}` }).success).toBe(false);
    expect(withinPathPatternLimits(tooMany)).toBe(false);
    expect(withinPathPatternLimits('/**/**/**/**/x')).toBe(true);
  });

  it('a site whose groups together exceed the per-site wildcard cap is refused, and stored ones beyond it are dropped', () => {
    const group = (i: number) => ({ name: `G${i}`, pattern: `/g${i}/${'*/'.repeat(PATH_PATTERN_MAX_WILDCARDS)}` });
    const fits = Array.from({ length: SITE_MAX_PATH_WILDCARDS / PATH_PATTERN_MAX_WILDCARDS }, (_, i) => group(i));
    const over = [...fits, group(99)];
    expect(updateSiteSchema.safeParse({ contentGroups: fits }).success).toBe(true);
    const r = updateSiteSchema.safeParse({ contentGroups: over });
    expect(r.error?.issues[0]?.message).toBe(
      `may contain at most ${SITE_MAX_PATH_WILDCARDS} wildcards (* or **) across all groups`,
    );
    expect(
      patternsWithinSiteLimits([{ pattern: '/**/**/**/**/**/**/**/**/**' }, ...over]).map((g) =>
        'name' in g ? g.name : 'too many',
      ),
    ).toEqual(fits.map((g) => g.name));
  });

  it('counts "**" as one wildcard and "***" as two, as the matcher reads them', () => {
    expect(wildcardCount('/blog/**')).toBe(1);
    expect(wildcardCount('/***')).toBe(2);
    expect(wildcardCount('/a*b*c')).toBe(2);
  });
});
