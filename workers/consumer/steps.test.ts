import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { BusMessage } from '@/lib/bus';
import type { Job } from './job';
import { deadLetter, drop, ok } from './outcome';
import { applyRecords, type Ready, type RecordStep } from './steps';

// The steps between decode and apply, without a database: what each step says is what happens —
// only `ok` records go on to the next step and to apply; drops and dead letters come back as data.

const tx = {} as pg.PoolClient; // the steps below never touch it
const msg = (offset: number): BusMessage => ({
  topic: 't',
  partition: 0,
  offset: String(offset),
  key: null,
  value: null,
  timestamp: 0,
  headers: {},
});
const ready = (...values: number[]): Ready<number>[] => values.map((v, i) => ({ message: msg(i), record: v }));

function job(steps: RecordStep<number>[]): Job<number> & { applied: number[][] } {
  const applied: number[][] = [];
  return {
    name: 'test',
    topic: 't',
    applied,
    decode: () => ok(0),
    steps,
    restore: () => undefined,
    release: () => undefined,
    apply: async (_tx, _p, records) => {
      applied.push(records.map((r) => r.record));
      return { state: records.length };
    },
  };
}

const dropOdd: RecordStep<number> = {
  name: 'odd',
  judge: async (_tx, rs) => rs.map((r) => (r.record % 2 ? drop('duplicate', `site-${r.record}`) : ok(r.record))),
};
const deadOverTen: RecordStep<number> = {
  name: 'big',
  judge: async (_tx, rs) => rs.map((r) => (r.record > 10 ? deadLetter(`too big: ${r.record}`) : ok(r.record * 100))),
};

describe('applyRecords', () => {
  it('runs the steps in order, each on what the previous let through, and applies only the ok records', async () => {
    const seen: number[][] = [];
    const spy: RecordStep<number> = {
      name: 'spy',
      judge: async (_tx, rs) => (seen.push(rs.map((r) => r.record)), rs.map((r) => ok(r.record))),
    };
    const j = job([dropOdd, spy, deadOverTen]);
    const out = await applyRecords(j, tx, 0, ready(1, 2, 3, 4, 12));
    expect(seen).toEqual([[2, 4, 12]]);
    // A step may transform a record (here ×100); apply sees what the last step returned.
    expect(j.applied).toEqual([[200, 400]]);
    expect(out.result.state).toBe(2);
    expect(out.dropped.map((d) => [d.message.offset, d.reason, d.siteId])).toEqual([
      ['0', 'duplicate', 'site-1'],
      ['2', 'duplicate', 'site-3'],
    ]);
    expect(out.dead.map((d) => [d.message.offset, d.reason])).toEqual([['4', 'too big: 12']]);
  });

  it('still applies (an empty batch) when every record was dropped: the checkpoint and event time move on', async () => {
    const j = job([dropOdd]);
    const out = await applyRecords(j, tx, 0, ready(1, 3));
    expect(j.applied).toEqual([[]]);
    expect(out.dropped).toHaveLength(2);
  });

  it('refuses a step that does not judge every record', async () => {
    const lossy: RecordStep<number> = { name: 'lossy', judge: async (_tx, rs) => rs.slice(1).map((r) => ok(r.record)) };
    await expect(applyRecords(job([lossy]), tx, 0, ready(1, 2))).rejects.toThrow(/step lossy judged 1 of 2 records/);
  });
});
