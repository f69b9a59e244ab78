import { z } from 'zod';
import {
  PATH_PATTERN_MAX_LENGTH,
  PATH_PATTERN_MAX_WILDCARDS,
  SITE_MAX_PATH_WILDCARDS,
  wildcardCount,
} from '../analytics/path-pattern';
import { isValidTimeZone } from '../analytics/time-zone';
import { DEFAULT_RETENTION_DAYS } from '../events/retention';

// What a site owner can set, validated once for the API and reused by the forms. Pure (no
// database), so client components can import it.

const HOSTNAME =
  /^(?=.{1,253}$)(localhost|(\d{1,3}\.){3}\d{1,3}|([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63})$/;

/** "https://www.Example.com/path" → "www.example.com": people paste URLs where a domain is asked. */
export function normalizeHostname(input: string): string {
  let s = input.trim().toLowerCase();
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  s = s.split(/[/?#]/)[0]!;
  s = s.replace(/:\d+$/, '').replace(/\.$/, '');
  return s;
}

const hostname = z
  .string()
  .max(300)
  .transform(normalizeHostname)
  .refine((h) => HOSTNAME.test(h), 'must be a hostname like example.com');

const allowedHostname = z
  .string()
  .max(300)
  .transform(normalizeHostname)
  .refine(
    (h) => HOSTNAME.test(h.startsWith('*.') ? h.slice(2) : h),
    'must be a hostname, or *.example.com for all subdomains',
  );

const retentionDays = z.number().int().min(1).max(36_500).nullable();

export const SESSION_GAP_MINUTES = { min: 1, max: 720, default: 30 } as const;
export const SALT_ROTATIONS = ['day', 'week', 'month'] as const;
export type SaltRotation = (typeof SALT_ROTATIONS)[number];

export const contentGroupSchema = z.object({
  name: z.string().trim().min(1, 'is required').max(80),
  // A path glob: "*" within a segment, "**" across segments (lib/analytics/path-pattern.ts). The
  // matcher is linear in the path whatever the pattern; the caps bound its constant factor, since
  // every pattern of a site runs once per pageview in the shared workers.
  pattern: z
    .string()
    .trim()
    .max(PATH_PATTERN_MAX_LENGTH)
    .refine((p) => p.startsWith('/'), 'must start with /')
    .refine(
      (p) => wildcardCount(p) <= PATH_PATTERN_MAX_WILDCARDS,
      `may contain at most ${PATH_PATTERN_MAX_WILDCARDS} wildcards (* or **)`,
    ),
});
export type ContentGroupInput = z.infer<typeof contentGroupSchema>;

// Every group of a site is tried on each of its pageviews: the total bounds one event's cost.
const contentGroupList = z
  .array(contentGroupSchema)
  .max(50)
  .refine(
    (gs) => gs.reduce((n, g) => n + wildcardCount(g.pattern), 0) <= SITE_MAX_PATH_WILDCARDS,
    `may contain at most ${SITE_MAX_PATH_WILDCARDS} wildcards (* or **) across all groups`,
  );

export const siteSettingsSchema = z.object({
  name: z.string().trim().min(1, 'is required').max(100),
  domain: hostname,
  allowedHostnames: z.array(allowedHostname).max(50).default([]),
  timezone: z.string().refine(isValidTimeZone, 'must be an IANA time zone like Europe/Berlin').default('UTC'),
  sessionGapMinutes: z
    .number()
    .int()
    .min(SESSION_GAP_MINUTES.min)
    .max(SESSION_GAP_MINUTES.max)
    .default(SESSION_GAP_MINUTES.default),
  saltRotation: z.enum(SALT_ROTATIONS).default('day'),
  // Honour Do-Not-Track / Global Privacy Control by default.
  respectDnt: z.boolean().default(true),
  contentGroups: contentGroupList.default([]),
  // Days raw events are kept (lib/events/retention.ts); null = forever. Rollups stay regardless.
  retentionDays: retentionDays.default(DEFAULT_RETENTION_DAYS),
});

export const createSiteSchema = siteSettingsSchema.extend({ teamId: z.uuid() });
export type CreateSiteInput = z.infer<typeof createSiteSchema>;

/** A partial update; fields not listed here (team, owner, public key, …) are dropped, not applied. */
export const updateSiteSchema = siteSettingsSchema.partial().extend({
  // Partial must not re-apply defaults for omitted fields.
  allowedHostnames: z.array(allowedHostname).max(50).optional(),
  timezone: z.string().refine(isValidTimeZone, 'must be an IANA time zone like Europe/Berlin').optional(),
  sessionGapMinutes: z.number().int().min(SESSION_GAP_MINUTES.min).max(SESSION_GAP_MINUTES.max).optional(),
  saltRotation: z.enum(SALT_ROTATIONS).optional(),
  respectDnt: z.boolean().optional(),
  contentGroups: contentGroupList.optional(),
  retentionDays: retentionDays.optional(),
});
export type UpdateSiteInput = z.infer<typeof updateSiteSchema>;

/** The domain itself, plus "www." or the bare domain, are always allowed unless the owner lists others. */
export function defaultAllowedHostnames(domain: string): string[] {
  if (domain === 'localhost' || /^\d/.test(domain)) return [domain];
  return domain.startsWith('www.') ? [domain, domain.slice(4)] : [domain, `www.${domain}`];
}

const LOCAL = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The script tag to paste. A site on localhost gets data-allow-localhost (the tracker ignores localhost otherwise). */
export function snippetFor(
  site: { publicKey: string; domain: string; allowedHostnames: string[]; respectDnt: boolean },
  baseUrl: string,
): string {
  const attrs = [`defer`, `src="${baseUrl}/t.js"`, `data-site="${site.publicKey}"`];
  if (!site.respectDnt) attrs.push('data-respect-dnt="false"');
  if (LOCAL.has(site.domain) || site.allowedHostnames.some((h) => LOCAL.has(h))) attrs.push('data-allow-localhost');
  return `<script ${attrs.join(' ')}></script>`;
}
