import { z } from 'zod';
import { matcherSchema } from '../goals/definition';

// A funnel: 2–8 ordered steps (each matches a custom event or a pageview path, like a goal),
// completed within one visit (`scope: 'visit'`, the default: the visit ends after a pause longer
// than the site's session gap) or within `windowMinutes` of the first step (`scope: 'window'`).
// Pure: shared by the funnels job, the API and the settings form.

export const MAX_FUNNELS_PER_SITE = 20;
export const FUNNEL_STEPS = { min: 2, max: 8 } as const;
export const FUNNEL_WINDOW_MINUTES = { min: 1, max: 7 * 24 * 60, default: 60 } as const;

export const FUNNEL_SCOPES = ['visit', 'window'] as const;
export type FunnelScope = (typeof FUNNEL_SCOPES)[number];

export const funnelStepSchema = z.intersection(
  z.object({ label: z.string().trim().max(120).optional() }),
  matcherSchema,
);
export type FunnelStep = z.infer<typeof funnelStepSchema>;

export const funnelInputSchema = z.object({
  name: z.string().trim().min(1).max(120),
  steps: z.array(funnelStepSchema).min(FUNNEL_STEPS.min).max(FUNNEL_STEPS.max),
  scope: z.enum(FUNNEL_SCOPES).default('visit'),
  /** The time limit of a 'window' funnel; kept but unused by a 'visit' one. */
  windowMinutes: z.coerce
    .number()
    .int()
    .min(FUNNEL_WINDOW_MINUTES.min)
    .max(FUNNEL_WINDOW_MINUTES.max)
    .default(FUNNEL_WINDOW_MINUTES.default),
});
export type FunnelInput = z.infer<typeof funnelInputSchema>;
