import { describe, expect, it } from 'vitest';
import { allActiveFilters, eventFilterOf, filtersSchema } from './dimensions';

describe('event filters', () => {
  it('event_prop splits at the first colon: a value may hold colons (a URL), a key may not', () => {
    expect(eventFilterOf({ custom_event: 'Signup', event_prop: 'plan:pro' })).toEqual({
      name: 'Signup',
      prop: { key: 'plan', value: 'pro' },
    });
    expect(eventFilterOf({ event_prop: 'url:https://x.test/a:b' })).toEqual({
      name: null,
      prop: { key: 'url', value: 'https://x.test/a:b' },
    });
    expect(eventFilterOf({ event_prop: 'trial:' })).toEqual({ name: null, prop: { key: 'trial', value: '' } });
    expect(eventFilterOf({ country: 'DE' })).toBeNull();
  });

  it('a property without a key, or without a colon, is refused', () => {
    expect(filtersSchema.safeParse({ event_prop: ':pro' }).success).toBe(false);
    expect(filtersSchema.safeParse({ event_prop: 'plan' }).success).toBe(false);
    expect(filtersSchema.safeParse({ event_prop: 'plan:pro', custom_event: 'Signup' }).success).toBe(true);
  });

  it('count as filters next to the dimensions (a filtered view, its cache key)', () => {
    expect(allActiveFilters({ country: 'DE', custom_event: 'Signup', event_prop: 'plan:pro', page: '' })).toEqual([
      ['country', 'DE'],
      ['custom_event', 'Signup'],
      ['event_prop', 'plan:pro'],
    ]);
  });
});
