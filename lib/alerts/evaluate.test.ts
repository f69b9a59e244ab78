import { describe, expect, it } from 'vitest';
import {
  alertMessage,
  conditionHolds,
  initialState,
  step,
  topDrivers,
  type AlertState,
  type Observation,
  type Transition,
} from './evaluate';
import { conditionSchema, type Condition } from './rules';

// Every rule type: fires (after its "for" duration), resolves, respects the cooldown, and never
// sends the same firing twice. The clock is a number we move by hand.

const S = 1000;

function run(
  condition: Condition,
  obs: { at: number; o: Observation }[],
  opts: { forSeconds?: number; cooldownSeconds?: number; muted?: boolean } = {},
) {
  const rule = {
    id: 'r1',
    forSeconds: opts.forSeconds ?? 0,
    cooldownSeconds: opts.cooldownSeconds ?? 0,
    muted: opts.muted ?? false,
  };
  let state: AlertState = initialState;
  const transitions: Transition[] = [];
  const states: string[] = [];
  for (const { at, o } of obs) {
    const r = step(rule, state, conditionHolds(condition, o), at);
    state = r.state;
    states.push(state.status);
    if (r.transition) transitions.push(r.transition);
  }
  return { transitions, states, state };
}

const c = (x: unknown) => conditionSchema.parse(x);
const cases: { name: string; condition: Condition; on: Observation; off: Observation }[] = [
  {
    name: 'visitors above',
    condition: c({ type: 'visitors', op: 'above', threshold: 10 }),
    on: { value: 11 },
    off: { value: 10 },
  },
  {
    name: 'visitors below',
    condition: c({ type: 'visitors', op: 'below', threshold: 3 }),
    on: { value: 2 },
    off: { value: 3 },
  },
  {
    name: 'spike vs trailing average',
    condition: c({ type: 'traffic', direction: 'spike', factor: 3, minPageviews: 10 }),
    on: { value: 30, baseline: 10 },
    off: { value: 29, baseline: 10 },
  },
  {
    name: 'spike vs a week earlier',
    condition: c({ type: 'traffic', direction: 'spike', baseline: 'week', factor: 2, minPageviews: 5 }),
    on: { value: 8, baseline: 4 },
    off: { value: 7, baseline: 4 },
  },
  {
    name: 'drop',
    condition: c({ type: 'traffic', direction: 'drop', factor: 4, minPageviews: 10 }),
    on: { value: 5, baseline: 20 },
    off: { value: 6, baseline: 20 },
  },
  {
    name: 'tracking stopped',
    condition: c({ type: 'tracking_stopped', minutes: 15, minUsualEvents: 2 }),
    on: { value: 0, baseline: 5 },
    off: { value: 1, baseline: 5 },
  },
  {
    name: 'SLA breached',
    condition: c({ type: 'sla' }),
    on: { value: 6000, baseline: 5000, cause: 'stopped worker' },
    off: { value: 4000, baseline: 5000 },
  },
  {
    name: 'custom event above',
    condition: c({ type: 'custom_event', event: 'signup', op: 'above', threshold: 4, windowMinutes: 60 }),
    on: { value: 5 },
    off: { value: 4 },
  },
  {
    name: 'goal spike',
    condition: c({
      type: 'goal',
      goalId: '00000000-0000-4000-8000-000000000001',
      direction: 'spike',
      factor: 2,
      minConversions: 4,
    }),
    on: { value: 4, baseline: 2, label: 'Signup' },
    off: { value: 3, baseline: 1 },
  },
  {
    name: 'goal drop',
    condition: c({
      type: 'goal',
      goalId: '00000000-0000-4000-8000-000000000001',
      direction: 'drop',
      factor: 3,
      minConversions: 6,
    }),
    on: { value: 2, baseline: 6 },
    off: { value: 3, baseline: 6 },
  },
  {
    name: 'custom event below',
    condition: c({ type: 'custom_event', event: 'purchase', op: 'below', threshold: 1, windowMinutes: 60 }),
    on: { value: 0 },
    off: { value: 1 },
  },
];

describe.each(cases)('$name', ({ condition, on, off }) => {
  it('fires once the condition has held for the "for" duration, passing through pending', () => {
    const r = run(
      condition,
      [
        { at: 0, o: off },
        { at: 1 * S, o: on },
        { at: 5 * S, o: on },
        { at: 11 * S, o: on },
      ],
      { forSeconds: 10 },
    );
    expect(r.states).toEqual(['ok', 'pending', 'pending', 'firing']);
    expect(r.transitions).toEqual([{ kind: 'firing', key: 'r1:1000', at: 11 * S, suppressed: null }]);
  });

  it('a pending condition that stops holding goes back to ok without a notification', () => {
    const r = run(
      condition,
      [
        { at: 0, o: on },
        { at: 2 * S, o: off },
        { at: 20 * S, o: off },
      ],
      { forSeconds: 10 },
    );
    expect(r.states).toEqual(['pending', 'ok', 'ok']);
    expect(r.transitions).toEqual([]);
  });

  it('resolves when the condition stops holding', () => {
    const r = run(condition, [
      { at: 0, o: on },
      { at: 2 * S, o: off },
    ]);
    expect(r.transitions.map((t) => [t.kind, t.key, t.suppressed])).toEqual([
      ['firing', 'r1:0', null],
      ['resolved', 'r1:0:resolved', null],
    ]);
  });

  it('de-duplicates: a condition that keeps holding fires once', () => {
    const r = run(
      condition,
      Array.from({ length: 20 }, (_, i) => ({ at: i * S, o: on })),
    );
    expect(r.transitions).toHaveLength(1);
    expect(r.states.every((s) => s === 'firing')).toBe(true);
  });

  it('within the cooldown a new firing and its resolution are recorded but not sent; after it, sent again', () => {
    const r = run(
      condition,
      [
        { at: 0, o: on },
        { at: 10 * S, o: off },
        { at: 20 * S, o: on }, // 20 s after the first notification: inside a 60 s cooldown
        { at: 30 * S, o: off },
        { at: 70 * S, o: on }, // 70 s after: outside
      ],
      { cooldownSeconds: 60 },
    );
    expect(r.transitions.map((t) => `${t.kind}@${t.at / S}:${t.suppressed ?? 'sent'}`)).toEqual([
      'firing@0:sent',
      'resolved@10:sent',
      'firing@20:cooldown',
      'resolved@30:cooldown',
      'firing@70:sent',
    ]);
  });

  it('a muted rule keeps its state but sends nothing', () => {
    const r = run(
      condition,
      [
        { at: 0, o: on },
        { at: 1 * S, o: off },
      ],
      { muted: true },
    );
    expect(r.transitions.map((t) => t.suppressed)).toEqual(['muted', 'muted']);
  });
});

describe('conditions at the edges', () => {
  it('a spike needs the minimum pageviews even on an empty baseline', () => {
    const spike = c({ type: 'traffic', direction: 'spike', factor: 3, minPageviews: 20 });
    expect(conditionHolds(spike, { value: 19, baseline: 0 })).toBe(false);
    expect(conditionHolds(spike, { value: 20, baseline: 0 })).toBe(true);
  });
  it('a drop needs a baseline of at least the minimum pageviews', () => {
    expect(
      conditionHolds(c({ type: 'traffic', direction: 'drop', factor: 2, minPageviews: 10 }), { value: 0, baseline: 9 }),
    ).toBe(false);
  });
  it('tracking stopped does not fire for a site that is never active', () => {
    expect(conditionHolds(c({ type: 'tracking_stopped', minutes: 30 }), { value: 0, baseline: 0 })).toBe(false);
  });
  it('an unmeasured SLA is not a breach', () => {
    expect(conditionHolds(c({ type: 'sla' }), { value: null, baseline: 1000 })).toBe(false);
  });
  it('an evaluator restarted from a stored state continues the same firing (same key, no second send)', () => {
    const rule = { id: 'r9', forSeconds: 0, cooldownSeconds: 0, muted: false };
    const first = step(rule, initialState, true, 5 * S);
    const stored = JSON.parse(JSON.stringify(first.state)) as AlertState;
    expect(step(rule, stored, true, 7 * S).transition).toBeNull();
    expect(step(rule, stored, false, 9 * S).transition?.key).toBe('r9:5000:resolved');
  });
});

describe('drivers and messages', () => {
  it('names the page, referrer and country that drive a spike', () => {
    const page = topDrivers(
      new Map([
        ['/pricing', 40],
        ['/', 5],
      ]),
      new Map([
        ['/pricing', 2],
        ['/', 6],
      ]),
      'page',
      'up',
    );
    expect(page[0]).toEqual({ dimension: 'page', value: '/pricing', count: 40, delta: 38 });
    const msg = alertMessage(
      { name: 'Traffic spike', condition: c({ type: 'traffic', direction: 'spike', factor: 3 }) },
      {
        value: 45,
        baseline: 8,
        drivers: [...page, { dimension: 'referrer', value: 'news.ycombinator.com', count: 30, delta: 30 }],
      },
      'firing',
      'Shop',
    );
    expect(msg).toBe(
      'Traffic spike on Shop: 45 pageviews in the last 5 min (5.6× the baseline of 8); driven by page /pricing (+38), referrer news.ycombinator.com (+30)',
    );
  });
});
