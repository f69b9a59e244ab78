// Version ranges: the subset of node-semver that `engines` fields use (no semver dependency for
// it). npm test checks the running Node against engines.node with it; tests/repo pins it.

type Version = [number, number, number];
type Comparator = { op: '>=' | '>' | '<' | '<=' | '='; v: Version };

function cmp(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** One comparator, e.g. `^20.19`, `>=24.0`, `>= 10.x`, `20`; partial versions as node-semver reads them. */
function comparators(term: string): Comparator[] {
  const m = /^(\^|~|>=|<=|>|<|=)?\s*v?(\d+|x|\*)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(term.trim());
  if (!m) throw new Error(`version range term not understood: ${JSON.stringify(term)}`);
  const op = m[1] ?? '';
  const parts = [m[2], m[3], m[4]].map((p) => (p === undefined || p === 'x' || p === '*' ? undefined : Number(p)));
  const [maj, min, pat] = parts;
  if (maj === undefined) return [];
  const lo: Version = [maj, min ?? 0, pat ?? 0];
  const next = (): Version =>
    min === undefined ? [maj + 1, 0, 0] : pat === undefined ? [maj, min + 1, 0] : [maj, min, pat + 1];
  switch (op) {
    case '^':
      return [
        { op: '>=', v: lo },
        { op: '<', v: maj > 0 ? [maj + 1, 0, 0] : min !== undefined && min > 0 ? [0, min + 1, 0] : next() },
      ];
    case '~':
      return [
        { op: '>=', v: lo },
        { op: '<', v: min === undefined ? [maj + 1, 0, 0] : [maj, min + 1, 0] },
      ];
    case '>=':
      return [{ op: '>=', v: lo }];
    case '>':
      return [{ op: '>=', v: next() }];
    case '<':
      return [{ op: '<', v: lo }];
    case '<=':
      return [{ op: '<', v: next() }];
    default:
      return pat === undefined
        ? [
            { op: '>=', v: lo },
            { op: '<', v: next() },
          ]
        : [{ op: '=', v: lo }];
  }
}

/** Whether version `v` (x.y.z) is in `range` (`a || b`, each a space-separated conjunction). */
export function satisfies(v: string, range: string): boolean {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v);
  if (!m) throw new Error(`not a version: ${v}`);
  const ver: Version = [Number(m[1]), Number(m[2]), Number(m[3])];
  return range.split('||').some((alt) => {
    const terms = alt
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .filter((t) => t !== '');
    return terms.flatMap(comparators).every(({ op, v: c }) => {
      const d = cmp(ver, c);
      return op === '>=' ? d >= 0 : op === '<' ? d < 0 : d === 0;
    });
  });
}
