import { z } from 'zod';

// The freshness targets a site owner can pick: "p95 of events visible on the dashboard within N",
// from 1 s (live) to 24 h (a batch-like refresh is a legitimate agreement too).

export const SLA_TARGETS_MS = [
  1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000,
] as const;
export const SLA_PERCENTILE = 0.95;

export const slaInputSchema = z.object({
  targetMs: z.coerce
    .number()
    .int()
    .refine((v) => (SLA_TARGETS_MS as readonly number[]).includes(v), `must be one of ${SLA_TARGETS_MS.join(', ')}`),
});

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
