import { z } from 'zod';
import { DAY, MINUTE } from '@/lib/time';

// The wire format between tracker/ and the collect endpoint. Short keys keep the tracker small.
// Every string has a maximum length; IP and user agent are never taken from here (they come
// from the connection), so unknown fields are stripped, never trusted.

export const MAX_BATCH = 25;
export const MAX_PROPS = 30;
export const MAX_PROP_KEY_BYTES = 64;
export const MAX_PROP_VALUE_BYTES = 256;
/** How far back a client may date an event (queued or retried sends). */
export const MAX_CLIENT_AGE_MS = 15 * MINUTE;

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
// A host name longer than DNS allows (253) parses as a URL but names no real site, and the
// stored record keeps hosts to 255 characters: refused here rather than dead-lettered later.
export const httpUrl = z
  .string()
  .max(2000)
  .refine(
    (u) => URL.canParse(u) && /^https?:/i.test(u) && new URL(u).hostname.length <= 253,
    'must be an absolute http(s) URL of at most 2000 characters, with a host name of at most 253',
  );

export const propsSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(MAX_PROP_KEY_BYTES)
      .refine((k) => bytes(k) <= MAX_PROP_KEY_BYTES, `key over ${MAX_PROP_KEY_BYTES} bytes`),
    z.union([
      z
        .string()
        .max(MAX_PROP_VALUE_BYTES)
        .refine((v) => bytes(v) <= MAX_PROP_VALUE_BYTES, `value over ${MAX_PROP_VALUE_BYTES} bytes`),
      z.number().finite(),
      z.boolean(),
    ]),
  )
  .refine((p) => Object.keys(p).length <= MAX_PROPS, `at most ${MAX_PROPS} properties`);

export const collectEventSchema = z.object({
  /** The site's public key (data-site). */
  s: z.string().min(1).max(64),
  /** Event name: "pageview", "engagement", "outbound", "download", "404", or a custom name. */
  n: z.string().trim().min(1).max(120).default('pageview'),
  /** Page URL. */
  u: httpUrl,
  /** Referrer URL (document.referrer); empty means direct. */
  r: z.union([httpUrl, z.literal('')]).optional(),
  /** Client-generated event id, reused on retries so the server can deduplicate. */
  i: z.uuid().optional(),
  /** Custom properties. */
  p: propsSchema.optional(),
  /** Engagement (with n = "engagement"): visible ms since the previous engagement send for this page view, max scroll depth %. */
  e: z.object({ v: z.number().int().min(0).max(DAY), d: z.number().int().min(0).max(100) }).optional(),
  /** Client clock: when the event happened (t) and when it was sent (c). Only c − t is used, to date retried events without trusting the clock. */
  t: z.number().int().nonnegative().optional(),
  c: z.number().int().nonnegative().optional(),
  /** Viewport width, sent by trackers before 2026-12-06 and read by nothing: still accepted (cached old trackers), ignored. */
  w: z.number().int().min(0).max(100_000).optional(),
});

/** One event, or a batch of at most MAX_BATCH. */
export const collectBodySchema = z.union([collectEventSchema, z.array(collectEventSchema).min(1).max(MAX_BATCH)]);

export type CollectEvent = z.infer<typeof collectEventSchema>;
