/** A checkpoint or savepoint that this operator cannot restore (wrong version, other windows, corrupt). */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

export function aggregateCodecError(aggregate: string, detail: string): TypeError {
  return new TypeError(`${aggregate} accumulator: ${detail}`);
}
