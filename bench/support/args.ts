/** `--name N` from the command line: a positive number (an integer with `integer`), or `fallback` when absent. */
export function flag(name: string, fallback: number, opts: { integer?: boolean } = {}): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  const ok = opts.integer ? Number.isInteger(v) && v > 0 : Number.isFinite(v) && v > 0;
  if (!ok) throw new Error(`--${name} needs a positive ${opts.integer ? 'integer' : 'number'}`);
  return v;
}

/** `--name a,b,c` from the command line: positive numbers, or `fallback` when absent. */
export function flagList(name: string, fallback: number[]): number[] {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = (process.argv[i + 1] ?? '').split(',').map(Number);
  const ok = v.length > 0 && v.every((x) => Number.isFinite(x) && x > 0);
  if (!ok) throw new Error(`--${name} needs comma-separated positive numbers`);
  return v;
}
