import { describe, expect, it } from 'vitest';
import type { EventRecord } from '@/lib/events/record';
import { INSIGHT_CAPS } from '@/lib/insights/kinds';
import { insightKey, insightStatsAggregate } from './event-stats';

// The insights aggregate: what each kind of event contributes, and the caps that keep a flood of
// random names or property values from growing a minute window without bound.

const e = (name: string, extra: Partial<EventRecord> = {}): EventRecord => ({
  v: 1,
  eventId: '00000000-0000-4000-8000-000000000000',
  siteId: 's',
  visitorId: 'v',
  name,
  url: 'https://s.test/',
  hostname: 's.test',
  path: '/',
  channel: 'direct',
  device: 'desktop',
  browser: 'Chrome',
  os: 'Linux',
  ts: 0,
  ...extra,
});

function run(events: EventRecord[], propertyBreakdowns = true) {
  const agg = insightStatsAggregate({ propertyBreakdowns });
  let acc = agg.create();
  for (const x of events) acc = agg.add(acc, x);
  return acc;
}

describe('insight stats', () => {
  it('a custom event counts under its name and each property; pageviews count nowhere', () => {
    const acc = run([
      e('pageview'),
      e('Signup', { props: { plan: 'pro', seats: 3 } }),
      e('Signup', { props: { plan: 'pro' }, visitorId: 'w' }),
    ]);
    expect([...acc.cells.keys()].sort()).toEqual(
      [
        insightKey('event', 'Signup'),
        insightKey('prop', 'Signup\u001fplan\u001fpro'),
        insightKey('prop', 'Signup\u001fseats\u001f3'),
      ].sort(),
    );
    expect(acc.cells.get(insightKey('event', 'Signup'))).toMatchObject({ count: 2 });
    expect(acc.cells.get(insightKey('event', 'Signup'))!.visitors.estimate()).toBe(2);
  });

  it('with property breakdowns off only the name is kept', () => {
    expect([...run([e('Signup', { props: { plan: 'pro' } })], false).cells.keys()]).toEqual([
      insightKey('event', 'Signup'),
    ]);
  });

  it('outbound and downloads by URL, 404 by path and referrer, engagement sums visible time and scroll', () => {
    const acc = run([
      e('outbound', { props: { url: 'https://x.example/' } }),
      e('download', { props: { url: 'https://s.test/a.pdf' } }),
      e('404', { props: { path: '/gone' }, referrerHost: 'www.google.com' }),
      e('engagement', { path: '/a', engagement: { visibleMs: 4000, scrollDepth: 60 } }),
      e('engagement', { path: '/a', engagement: { visibleMs: 6000, scrollDepth: 80 } }),
    ]);
    expect(acc.cells.get(insightKey('outbound', 'https://x.example/'))!.count).toBe(1);
    expect(acc.cells.get(insightKey('download', 'https://s.test/a.pdf'))!.count).toBe(1);
    expect(acc.cells.get(insightKey('404', '/gone'))!.count).toBe(1);
    expect(acc.cells.get(insightKey('404_referrer', '/gone\u001fwww.google.com'))!.count).toBe(1);
    expect(acc.cells.get(insightKey('engagement', '/a'))).toMatchObject({
      count: 2,
      visibleMs: 10_000,
      scroll: 140,
      scrollSamples: 2,
    });
    expect(acc.cells.has(insightKey('event', 'outbound'))).toBe(false);
  });

  it('past 100 values of one property key, values fold into that key’s (other); past 1,000 names, into (other)', () => {
    const values = Array.from({ length: 250 }, (_, i) => e('Search', { props: { q: `query ${i}` } }));
    const acc = run(values);
    const q = [...acc.cells.keys()].filter((k) => k.startsWith(insightKey('prop', 'Search\u001fq\u001f')));
    expect(q).toHaveLength(INSIGHT_CAPS.valuesPerProperty + 1);
    expect(acc.cells.get(insightKey('prop', 'Search\u001fq\u001f(other)'))!.count).toBe(150);
    const names = run(Array.from({ length: 1500 }, (_, i) => e(`event-${i}`)));
    const kept = [...names.cells.keys()].filter((k) => k.startsWith(insightKey('event', '')));
    expect(kept).toHaveLength(INSIGHT_CAPS.valuesPerKind + 1);
    expect(names.cells.get(insightKey('event', '(other)'))!.count).toBe(500);
  });

  it('survives a checkpoint: JSON round trip, then merging keeps the caps', () => {
    const agg = insightStatsAggregate({ propertyBreakdowns: true });
    const acc = run(Array.from({ length: 120 }, (_, i) => e('Search', { props: { q: `q${i}` } })));
    const restored = agg.fromJSON(JSON.parse(JSON.stringify(agg.toJSON(acc))));
    expect(restored.cells.size).toBe(acc.cells.size);
    agg.add(restored, e('Search', { props: { q: 'new' } }));
    expect(restored.cells.get(insightKey('prop', 'Search\u001fq\u001f(other)'))!.count).toBe(21);
  });
});
