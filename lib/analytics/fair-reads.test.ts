import { describe, expect, it } from 'vitest';
import { isEddyError } from '../errors';
import { ConcurrencyGate } from './fair-reads';

// The gate that keeps one site's expensive reads from taking every connection.

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('ConcurrencyGate', () => {
  it('runs at most `limit` tasks per key, queues the rest in order, and leaves other keys alone', async () => {
    const gate = new ConcurrencyGate(2, 10, 'reads');
    const started: string[] = [];
    const holds = Array.from({ length: 4 }, deferred);
    const runs = holds.map((h, i) => gate.run('a', async () => (started.push(`a${i}`), h.promise)));
    const other = gate.run('b', async () => started.push('b'));
    await other;
    expect(started).toEqual(['a0', 'a1', 'b']);
    expect(gate.load('a')).toEqual({ active: 2, waiting: 2 });
    holds[1]!.resolve();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual(['a0', 'a1', 'b', 'a2']);
    for (const h of holds) h.resolve();
    await Promise.all(runs);
    expect(gate.load('a')).toEqual({ active: 0, waiting: 0 });
  });

  it('answers 429 with Retry-After when the queue is full, and frees the slot when a task fails', async () => {
    const gate = new ConcurrencyGate(1, 1, 'reads');
    const hold = deferred();
    const first = gate.run('a', () => hold.promise);
    const second = gate.run('a', async () => 'second');
    const third = await gate.run('a', async () => 'third').catch((e: unknown) => e);
    expect(isEddyError(third) && third.status === 429 && third.retryAfter).toBe(5);
    hold.resolve();
    await first;
    expect(await second).toBe('second');
    await expect(gate.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(gate.load('a')).toEqual({ active: 0, waiting: 0 });
  });
});
