import { describe, expect, it } from 'vitest';
import { DimensionTable } from './dimension-table';

interface Site {
  name: string;
  pageGroups: string[];
}

describe('dimension table (side input)', () => {
  it('holds a deeply frozen snapshot that readers cannot change', () => {
    const table = new DimensionTable({
      sites: new Map<string, Site>([['s1', { name: 'Shop', pageGroups: ['/cart'] }]]),
      channels: ['search'],
    });
    const data = table.data;
    const site = data.sites.get('s1') as Site;
    expect(() => {
      (site as { name: string }).name = 'changed';
    }).toThrow(TypeError);
    expect(() => (site.pageGroups as string[]).push('/x')).toThrow(TypeError);
    expect(() => (data.sites as Map<string, Site>).set('s2', { name: 'x', pageGroups: [] })).toThrow(/immutable/);
    expect(() => (data.channels as string[]).push('social')).toThrow(TypeError);
    expect(table.version).toBe(0);
  });

  it('swaps snapshots atomically: a reader holding the old snapshot keeps seeing it whole', async () => {
    const table = new DimensionTable({ channel: 'search', weight: 1 });
    const held = table.snapshot();
    const next = await table.refresh(async () => ({ channel: 'social', weight: 2 }));
    expect(held).toEqual({ version: 0, data: { channel: 'search', weight: 1 } });
    expect(next).toEqual({ version: 1, data: { channel: 'social', weight: 2 } });
    expect(table.snapshot()).toBe(next);
  });

  it('discards an older refresh that finishes after a newer one, and keeps the data when a loader fails', async () => {
    const table = new DimensionTable('v0');
    let finishSlow: (value: string) => void = () => {};
    const slow = table.refresh(() => new Promise<string>((resolve) => (finishSlow = resolve)));
    await table.refresh(() => 'fast');
    finishSlow('slow');
    await slow;
    expect(table.data).toBe('fast');
    expect(table.version).toBe(1);

    await expect(table.refresh(() => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(table.snapshot()).toEqual({ version: 1, data: 'fast' });
  });

  it('accepts an explicit version (e.g. the one a checkpoint recorded) but never goes back', () => {
    const table = new DimensionTable({ a: 1 }, 5);
    expect(table.swap({ a: 2 }, 9).version).toBe(9);
    expect(() => table.swap({ a: 3 }, 8)).toThrow(RangeError);
  });
});
