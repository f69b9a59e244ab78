// The backtracking glob translation the workers used until issue 13's ReDoS (`/**/**/**/**/x`
// against a path of slashes took seconds). Never for production: it is kept only as the oracle
// that pins the linear matcher's semantics (path-pattern.test.ts) and as the baseline of
// `npm run bench -- path-pattern`, which runs it in a child process it can kill. Self-contained
// (no imports), because the bench passes its source text to that process.
export function legacyGlobToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
