import type { Condition, Rule } from './rules';

// Alert evaluation, pure: the worker measures an Observation per rule, and these functions decide
// whether the condition holds and how the rule's state machine moves. Time is always passed in,
// so tests control the clock instead of sleeping.
//
//   ok ──holds──▶ pending ──holds for `forSeconds`──▶ firing ──stops holding──▶ ok (resolved)
//                   └──stops holding──▶ ok (nothing sent)
//
// A firing is identified by the time its condition started holding, so its de-duplication key
// is stable across evaluator restarts and processes (the store keeps one event per key).
// Cooldown: a firing less than `cooldownSeconds` after the previous notification is recorded
// but not sent, and neither is its resolution.

export interface Driver {
  dimension: 'page' | 'referrer' | 'country';
  value: string;
  /** Pageviews in the window. */
  count: number;
  /** Change against the baseline's share of this value (the spike's or drop's part it explains). */
  delta: number;
}

export interface Observation {
  /** visitors: current visitors; traffic/custom_event: count in the window; tracking_stopped: pageviews and events in the window; sla: freshness ms (null: nothing to measure). */
  value: number | null;
  /** traffic: baseline count per window; tracking_stopped: usual pageviews and events per window; sla: target ms. */
  baseline?: number;
  drivers?: Driver[];
  /** sla: why it is breached (lag, stopped worker, late data). */
  cause?: string;
  /** goal: the goal's name. */
  label?: string;
}

export type AlertStatus = 'ok' | 'pending' | 'firing';

export interface AlertState {
  status: AlertStatus;
  /** When the condition started holding (pending and firing). */
  since: number | null;
  /** When a notification was last sent (cooldown). */
  lastNotifiedAt: number | null;
  /** Whether the current firing was notified (a firing inside the cooldown is not, nor its resolution). */
  notified: boolean;
}

export const initialState: AlertState = { status: 'ok', since: null, lastNotifiedAt: null, notified: false };

export type Suppression = 'cooldown' | 'muted';

export interface Transition {
  kind: 'firing' | 'resolved';
  /** De-duplication key: one event per firing and one per resolution. */
  key: string;
  at: number;
  /** Why it is recorded but not sent. */
  suppressed: Suppression | null;
}

export function conditionHolds(c: Condition, o: Observation): boolean {
  if (o.value === null || Number.isNaN(o.value)) return false;
  const v = o.value;
  const base = o.baseline ?? 0;
  switch (c.type) {
    case 'visitors':
    case 'custom_event':
      return c.op === 'above' ? v > c.threshold : v < c.threshold;
    case 'traffic':
      return c.direction === 'spike'
        ? v >= c.minPageviews && v >= c.factor * base
        : base >= c.minPageviews && v <= base / c.factor;
    case 'goal':
      return c.direction === 'spike'
        ? v >= c.minConversions && v >= c.factor * base
        : base >= c.minConversions && v <= base / c.factor;
    case 'tracking_stopped':
      return v === 0 && base >= c.minUsualEvents;
    case 'sla':
      return o.baseline !== undefined && v > base;
  }
}

export function step(
  rule: Pick<Rule, 'id' | 'forSeconds' | 'cooldownSeconds' | 'muted'>,
  state: AlertState,
  holds: boolean,
  now: number,
): { state: AlertState; transition: Transition | null } {
  if (!holds) {
    if (state.status === 'firing') {
      const suppressed: Suppression | null = state.notified ? null : rule.muted ? 'muted' : 'cooldown';
      return {
        state: { ...state, status: 'ok', since: null, notified: false },
        transition: { kind: 'resolved', key: `${rule.id}:${state.since}:resolved`, at: now, suppressed },
      };
    }
    return { state: state.status === 'ok' ? state : { ...state, status: 'ok', since: null }, transition: null };
  }
  if (state.status === 'firing') return { state, transition: null };
  const since = state.status === 'pending' && state.since !== null ? state.since : now;
  if (now - since < rule.forSeconds * 1000) return { state: { ...state, status: 'pending', since }, transition: null };
  const inCooldown = state.lastNotifiedAt !== null && now - state.lastNotifiedAt < rule.cooldownSeconds * 1000;
  const suppressed: Suppression | null = rule.muted ? 'muted' : inCooldown ? 'cooldown' : null;
  return {
    state: {
      status: 'firing',
      since,
      lastNotifiedAt: suppressed ? state.lastNotifiedAt : now,
      notified: suppressed === null,
    },
    transition: { kind: 'firing', key: `${rule.id}:${since}`, at: now, suppressed },
  };
}

/** The drivers of a change: per dimension, the value whose count moved most in the direction of the change. */
export function topDrivers(
  current: Map<string, number>,
  baseline: Map<string, number>,
  dimension: Driver['dimension'],
  direction: 'up' | 'down',
  baselineScale = 1,
): Driver[] {
  const keys = new Set([...current.keys(), ...baseline.keys()]);
  const out: Driver[] = [];
  for (const k of keys) {
    const count = current.get(k) ?? 0;
    const delta = count - (baseline.get(k) ?? 0) * baselineScale;
    if ((direction === 'up' && delta > 0) || (direction === 'down' && delta < 0))
      out.push({ dimension, value: k, count, delta: Math.round(delta * 10) / 10 });
  }
  out.sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.value.localeCompare(b.value));
  return out.slice(0, 3);
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** One line naming what happened and what drives it, for every channel. */
export function alertMessage(
  rule: Pick<Rule, 'name' | 'condition'>,
  o: Observation,
  kind: 'firing' | 'resolved' | 'test',
  siteName: string,
): string {
  const c = rule.condition;
  const head =
    kind === 'resolved'
      ? `Resolved: ${rule.name} on ${siteName}`
      : kind === 'test'
        ? `Test: ${rule.name} on ${siteName}`
        : `${rule.name} on ${siteName}`;
  let body = '';
  const v = o.value;
  switch (c.type) {
    case 'visitors':
      body = `${v ?? 0} current visitors (threshold: ${c.op} ${c.threshold})`;
      break;
    case 'traffic': {
      const ratio = o.baseline
        ? ` (${fmt((v ?? 0) / o.baseline)}× the baseline of ${fmt(o.baseline)})`
        : ` (baseline ${fmt(o.baseline ?? 0)})`;
      body = `${v ?? 0} pageviews in the last ${c.windowMinutes} min${ratio}`;
      break;
    }
    case 'tracking_stopped':
      body = `no pageviews or events in the last ${c.minutes} min (usually ${fmt(o.baseline ?? 0)})`;
      break;
    case 'sla':
      body =
        v === null
          ? 'freshness not measured'
          : `data is ${fmt(v / 1000)} s behind (target ${fmt((o.baseline ?? 0) / 1000)} s)${o.cause ? `, cause: ${o.cause}` : ''}`;
      break;
    case 'custom_event':
      body = `${v ?? 0} "${c.event}" events in the last ${c.windowMinutes} min (threshold: ${c.op} ${c.threshold})`;
      break;
    case 'goal': {
      const ratio = o.baseline
        ? ` (${fmt((v ?? 0) / o.baseline)}× the baseline of ${fmt(o.baseline)})`
        : ` (baseline ${fmt(o.baseline ?? 0)})`;
      body = `${v ?? 0} conversions${o.label ? ` of goal "${o.label}"` : ''} in the last ${c.windowMinutes} min${ratio}`;
      break;
    }
  }
  const drivers = (o.drivers ?? []).filter((d, i, all) => all.findIndex((x) => x.dimension === d.dimension) === i);
  const driven =
    drivers.length && kind !== 'resolved'
      ? `; driven by ${drivers.map((d) => `${d.dimension} ${d.value} (${d.delta > 0 ? '+' : ''}${fmt(d.delta)})`).join(', ')}`
      : '';
  return `${head}: ${body}${driven}`;
}
