import { z } from 'zod';

// Alert rule definitions: one zod schema per rule type, so the API, the evaluator and the UI
// share one source of truth. Parameters are bounded; unknown keys are stripped.

const windowMinutes = z.coerce.number().int().min(1).max(1440);
const op = z.enum(['above', 'below']);

export const visitorsCondition = z.object({
  type: z.literal('visitors'),
  op,
  threshold: z.coerce.number().int().min(0).max(10_000_000),
});
export const trafficCondition = z.object({
  type: z.literal('traffic'),
  direction: z.enum(['spike', 'drop']),
  windowMinutes: windowMinutes.max(180).default(5),
  /** `week`: the same window 7 days earlier; `trailing`: the average of the previous `trailingWindows` windows. */
  baseline: z.enum(['week', 'trailing']).default('trailing'),
  trailingWindows: z.coerce.number().int().min(1).max(48).default(12),
  factor: z.coerce.number().min(1.1).max(1000).default(3),
  /** A spike needs at least this many pageviews (a baseline of 0 would otherwise fire on 1); a drop needs a baseline this big. */
  minPageviews: z.coerce.number().int().min(1).max(10_000_000).default(10),
});
export const trackingStoppedCondition = z.object({
  type: z.literal('tracking_stopped'),
  minutes: windowMinutes.default(30),
  /** "Usually active": the trailing 24 h (since the site's first traffic) averaged at least this many pageviews and events per window of `minutes`. */
  minUsualEvents: z.coerce.number().min(0.1).max(1_000_000).default(1),
});
export const slaCondition = z.object({ type: z.literal('sla') });
export const customEventCondition = z.object({
  type: z.literal('custom_event'),
  event: z.string().trim().min(1).max(120),
  windowMinutes: windowMinutes.default(60),
  op,
  threshold: z.coerce.number().int().min(0).max(10_000_000),
});

/** Issue 14: a goal's conversions spike or drop against a baseline, like `traffic` for pageviews. */
export const goalCondition = z.object({
  type: z.literal('goal'),
  goalId: z.uuid(),
  direction: z.enum(['spike', 'drop']),
  windowMinutes: windowMinutes.max(1440).default(60),
  baseline: z.enum(['week', 'trailing']).default('trailing'),
  trailingWindows: z.coerce.number().int().min(1).max(48).default(12),
  factor: z.coerce.number().min(1.1).max(1000).default(3),
  /** A spike needs at least this many conversions; a drop needs a baseline this big. */
  minConversions: z.coerce.number().int().min(1).max(10_000_000).default(5),
});

export const conditionSchema = z.discriminatedUnion('type', [
  visitorsCondition,
  trafficCondition,
  trackingStoppedCondition,
  slaCondition,
  customEventCondition,
  goalCondition,
]);
export type Condition = z.infer<typeof conditionSchema>;
export type RuleType = Condition['type'];

// Outbound URLs: http(s) only here; which addresses they may reach is checked at save and at send
// time by lib/outbound (it needs DNS, which a schema cannot do).
const outboundUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).max(2000);

export const channelSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('webhook'), url: outboundUrl, secret: z.string().min(16).max(200).optional() }),
  z.object({ kind: z.literal('slack'), url: outboundUrl }),
  z.object({ kind: z.literal('email'), to: z.array(z.email().max(320)).min(1).max(20) }),
  z.object({ kind: z.literal('inapp') }),
]);
export type Channel = z.infer<typeof channelSchema>;

export const ruleInputSchema = z.object({
  name: z.string().trim().min(1).max(120),
  condition: conditionSchema,
  /** The condition must hold this long before the alert fires (pending → firing). */
  forSeconds: z.coerce.number().int().min(0).max(86_400).default(0),
  /** Minimum time between two notifications of the same rule. */
  cooldownSeconds: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(600),
  channels: z
    .array(channelSchema)
    .max(10)
    .default([{ kind: 'inapp' }]),
  muted: z.boolean().default(false),
});
export type RuleInput = z.infer<typeof ruleInputSchema>;

export interface Rule extends RuleInput {
  id: string;
  siteId: string;
}

export function describeCondition(c: Condition): string {
  switch (c.type) {
    case 'visitors':
      return `current visitors ${c.op} ${c.threshold}`;
    case 'traffic':
      return `pageviews ${c.direction === 'spike' ? 'rise to' : 'fall to'} ${c.direction === 'spike' ? `${c.factor}×` : `1/${c.factor} of`} ${c.baseline === 'week' ? 'the same window a week earlier' : `the average of the previous ${c.trailingWindows} windows`} (${c.windowMinutes}-minute window)`;
    case 'tracking_stopped':
      return `no pageviews or events for ${c.minutes} min while the site is usually active`;
    case 'sla':
      return 'freshness SLA breached';
    case 'custom_event':
      return `"${c.event}" events in ${c.windowMinutes} min ${c.op} ${c.threshold}`;
    case 'goal':
      return `goal conversions ${c.direction === 'spike' ? `rise to ${c.factor}×` : `fall to 1/${c.factor} of`} ${c.baseline === 'week' ? 'the same window a week earlier' : `the average of the previous ${c.trailingWindows} windows`} (${c.windowMinutes}-minute window)`;
  }
}
