import { describe, expect, it } from 'vitest';
import { SnapshotError } from './errors';
import { stateCodec, type Json } from '.';

type State = { operator: Json; dimensionVersion: number };
const codec = stateCodec<State>({
  name: 'test checkpoint',
  version: 2,
  reads: [1],
  decode: (f) => ({
    operator: f.object('operator'),
    dimensionVersion: f.version === 1 && !f.has('dimensionVersion') ? 0 : f.number('dimensionVersion'),
  }),
});

describe('stateCodec: versioned checkpoints', () => {
  it('stamps its version on the stored form and reads it back through JSON', () => {
    const state: State = { operator: { watermark: 5, state: [] }, dimensionVersion: 3 };
    const stored = JSON.parse(JSON.stringify(codec.encode(state))) as Json;
    expect(stored).toEqual({ ...state, v: 2 });
    expect(codec.decode(stored)).toEqual(state);
  });

  it('reads an unversioned checkpoint (written before checkpoints had versions) as version 1', () => {
    expect(codec.decode({ operator: {} })).toEqual({ operator: {}, dimensionVersion: 0 });
  });

  it('refuses a version it does not read, and a shape that is not its own, naming the field', () => {
    expect(() => codec.decode({ v: 3, operator: {}, dimensionVersion: 1 })).toThrow(SnapshotError);
    expect(() => codec.decode({ v: 3, operator: {}, dimensionVersion: 1 })).toThrow(
      /version 3 is not one this release reads \(2, 1\)/,
    );
    expect(() => codec.decode({ v: '2', operator: {} })).toThrow(SnapshotError);
    expect(() => codec.decode([])).toThrow(/must be an object/);
    expect(() => codec.decode(null)).toThrow(SnapshotError);
    expect(() => codec.decode({ v: 2, operator: {} })).toThrow(/test checkpoint v2: dimensionVersion must be present/);
    expect(() => codec.decode({ v: 2, operator: [], dimensionVersion: 1 })).toThrow(/operator must be an object/);
    expect(() => codec.decode({ v: 2, operator: {}, dimensionVersion: Number.NaN })).toThrow(
      /dimensionVersion must be a finite number/,
    );
  });
});
