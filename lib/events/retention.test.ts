import { describe, expect, it } from 'vitest';
import { droppablePartitions, partitionDay, retentionHorizon } from './retention';

// Which archive partitions retention may drop, around a fixed instant.

const NOW = Date.parse('2026-12-06T09:30:00.000Z');
const parts = [
  'events_2026_09_06',
  'events_2026_09_07',
  'events_2026_09_08',
  'events_2026_12_06',
  'events_2026_12_09',
  'events_default',
];

describe('retention', () => {
  it('reads a partition day from its name; the default partition has none', () => {
    expect(partitionDay('events_2026_09_07')).toBe(Date.parse('2026-09-07T00:00:00Z'));
    expect(partitionDay('events_default')).toBeNull();
  });

  it('drops a day only when it lies wholly before every site’s horizon', () => {
    // 90 days before NOW is 2026-09-07T09:30Z: 09-06 ends before it, 09-07 straddles it.
    expect(retentionHorizon(90, NOW)).toBe(Date.parse('2026-09-07T09:30:00Z'));
    expect(droppablePartitions(parts, [90], NOW)).toEqual(['events_2026_09_06']);
    expect(droppablePartitions(parts, [30, 90], NOW)).toEqual(['events_2026_09_06']);
    expect(droppablePartitions(parts, [30, 89], NOW)).toEqual(['events_2026_09_06', 'events_2026_09_07']);
  });

  it('keeps every partition while one site keeps forever, or when there are no sites', () => {
    expect(droppablePartitions(parts, [30, null], NOW)).toEqual([]);
    expect(droppablePartitions(parts, [], NOW)).toEqual([]);
  });
});
