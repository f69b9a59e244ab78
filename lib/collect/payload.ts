import { z } from 'zod';

// What the tracker sends. Every string has a maximum length; IP and user agent are never taken
// from here (they come from the connection), so extra fields are stripped, not trusted.

export const collectPayloadSchema = z.object({
  /** The site's public key (data-site). */
  s: z.string().min(1).max(64),
  /** Event name; "pageview" for page loads. */
  n: z.string().min(1).max(120).default('pageview'),
  /** Page URL. */
  u: z
    .string()
    .max(2000)
    .refine((u) => URL.canParse(u) && /^https?:/.test(u), 'must be an absolute http(s) URL'),
  /** Client-generated event id, reused on retries so the server can deduplicate. */
  i: z.uuid().optional(),
});

export type CollectPayload = z.infer<typeof collectPayloadSchema>;
