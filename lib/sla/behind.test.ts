import { describe, expect, it } from 'vitest';
import { behindTone, formatBehind, slaState, tileBehindMs } from './behind';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const site = { ms: 400, measuredAt: NOW - 1000, targetMs: 5000, visibleReceivedAt: NOW - 600 };

describe('SLA state', () => {
  it('is breached whenever the current freshness is worse than the target', () => {
    expect(slaState({ ...site, ms: 7000 }, NOW)).toEqual({ kind: 'breached' });
    expect(slaState(site, NOW)).toEqual({ kind: 'within' });
  });
  it('a stale or missing measurement is never within target', () => {
    expect(slaState({ ...site, measuredAt: NOW - 60_000 }, NOW)).toEqual({ kind: 'not measured', sinceMs: 60_000 });
    expect(slaState({ ...site, measuredAt: null }, NOW)).toEqual({ kind: 'not measured', sinceMs: null });
  });
  it('without a target there is no verdict', () => {
    expect(slaState({ ...site, targetMs: null }, NOW)).toEqual({ kind: 'no target' });
  });
});

describe('tile behind', () => {
  it('is the pipeline freshness plus how much newer the visible data is than the tile', () => {
    expect(tileBehindMs(site, NOW - 600)).toBe(400);
    expect(tileBehindMs(site, NOW - 3600)).toBe(3400);
    expect(tileBehindMs({ ...site, ms: null }, null)).toBe(0);
  });
  it('turns amber past half the target and red past the target', () => {
    expect(behindTone(2000, 5000)).toBe('ok');
    expect(behindTone(3000, 5000)).toBe('amber');
    expect(behindTone(5001, 5000)).toBe('red');
    expect(behindTone(99_000, null)).toBe('neutral');
  });
  it('reads as seconds', () => {
    expect(formatBehind(300)).toBe('< 1 s behind');
    expect(formatBehind(3200)).toBe('3.2 s behind');
    expect(formatBehind(5050)).toBe('5.0 s behind');
    expect(formatBehind(12_700)).toBe('12 s behind');
    expect(formatBehind(125_000)).toBe('2 min behind');
  });
});
