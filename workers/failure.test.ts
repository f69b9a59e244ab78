import { describe, expect, it } from 'vitest';
import { classifyFailure } from './failure';

// Which failures re-run a batch (transient) and which dead-letter a record (deterministic).

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('classifyFailure', () => {
  it("treats data exceptions, constraint violations and program limits as the record's fault", () => {
    expect(classifyFailure(pgError('22P02', 'invalid input syntax for type integer'))).toBe('deterministic');
    expect(classifyFailure(pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00'))).toBe('deterministic');
    expect(classifyFailure(pgError('23505'))).toBe('deterministic');
    expect(classifyFailure(pgError('54000', 'index row size 6016 exceeds btree version 4 maximum 2704'))).toBe(
      'deterministic',
    );
    expect(classifyFailure(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe('deterministic');
    expect(classifyFailure(new RangeError('Invalid time value'))).toBe('deterministic');
  });

  it('treats lost connections, serialization failures, deadlocks, shutdowns and schema mismatches as transient', () => {
    for (const code of ['40001', '40P01', '08006', '57P01', '53300', '55P03', '42P01', 'XX000'])
      expect(classifyFailure(pgError(code))).toBe('transient');
    expect(classifyFailure(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe('transient');
    expect(classifyFailure(new Error('Connection terminated unexpectedly'))).toBe('transient');
    expect(classifyFailure(new Error('timeout exceeded when trying to connect'))).toBe('transient');
  });
});
