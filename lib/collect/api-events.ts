import { z } from 'zod';
import { env } from '../env';
import { EddyError } from '../errors';
import type { EventRecord } from '../events/record';
import { parseStorableJson } from '../events/storable';
import { findSiteByKey } from '../sites/find-site-by-key';
import { hostMatches, SPAM } from './enrich/referrer-lists';
import { parseUserAgent } from './enrich/user-agent';
import { eventTime } from './event-time';
import { buildRecord, ingestionLedger, siteBudgetAllows } from './ingest';
import type { Outcome } from './ledger';
import { httpUrl, MAX_BATCH, propsSchema } from './payload';
import { produceEvents } from './produce';
import { DAY } from '@/lib/time';

// The events API (POST /api/v1/events): a customer's server — usually through @eddy/node —
// sends a batch of events for its site. The collect pipeline's rules, with what the key changes:
//
// - Validation and limits are collect's: the same URL, name and property rules, 64 KB, at most
//   MAX_BATCH events, strings made storable before validation (lib/events/storable.ts).
// - The end user's IP and user agent come in the payload — trusted because the caller holds a
//   key — and the visitor id is derived from them exactly as for the tracker, so one person seen
//   by the browser and by the server is one visitor.
// - Bots (by the end user's user agent) and spam referrers are dropped and booked as for the
//   tracker. The hostname allow-list and the per-address and per-visitor budgets are not
//   applied: they guard a public endpoint against forged traffic, and this one is authenticated
//   and rate-limited per key instead (one API client can legitimately make many requests). The
//   site's own budget still applies, shared with the tracker.
// - Unlike the tracker, the caller is told what was dropped and why: a key holder is no bot.
// - Idempotency: `id` is the event id the workers deduplicate on, so a retry with the same ids
//   is counted once. Every outcome is booked in the ledger with source "api".

const ip = z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });

export const apiEventSchema = z
  .object({
    /** Idempotency key: a UUID you reuse when you retry, so the event is counted once. */
    id: z
      .uuid()
      .optional()
      .meta({ description: 'Idempotency key: a UUID reused on every retry of this event, so it is counted once.' }),
    /** "pageview", "request" (a server request) or a custom event name. */
    name: z
      .string()
      .trim()
      .min(1)
      .max(120)
      .refine((n) => n !== 'engagement', '"engagement" is reserved for the tracker')
      .default('pageview')
      .meta({ description: '"pageview", "request" (a server request, with `request`) or a custom event name.' }),
    url: httpUrl.meta({ description: 'Absolute http(s) URL of the page or request, at most 2000 characters.' }),
    referrer: z
      .union([httpUrl, z.literal('')])
      .optional()
      .meta({ description: 'Referrer URL; empty or absent means direct.' }),
    props: propsSchema
      .optional()
      .meta({ description: 'Custom properties: at most 30, keys ≤ 64 bytes, string values ≤ 256 bytes.' }),
    /** The end user's address and user agent (not your server's): the visitor id is derived from them, as for the tracker. */
    ip: ip.meta({
      description:
        "The end user's IP address (not your server's). Never stored; used to derive the visitor id and the country.",
    }),
    user_agent: z.string().max(1000).meta({ description: "The end user's User-Agent header." }),
    timestamp: z.number().int().nonnegative().optional().meta({
      description:
        'When it happened, ms since epoch on your clock; with sent_at only the difference is used, clamped to 15 minutes (like the tracker).',
    }),
    request: z
      .object({
        method: z.string().regex(/^[A-Za-z]{1,16}$/, 'must be an HTTP method'),
        status: z.number().int().min(100).max(599),
        duration_ms: z.number().finite().min(0).max(DAY),
      })
      .optional()
      .meta({
        description: 'Required when name is "request": the server request\'s method, response status and duration.',
      }),
  })
  .superRefine((e, ctx) => {
    if ((e.name === 'request') !== (e.request !== undefined))
      ctx.addIssue({ code: 'custom', path: ['request'], message: 'is required exactly when name is "request"' });
  });

export const apiEventsBodySchema = z.object({
  site_id: z.uuid().optional().meta({ description: "The key's site; another site's id is answered 404." }),
  sent_at: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .meta({ description: 'When this batch was sent, ms since epoch on your clock (the same clock as timestamp).' }),
  events: z.array(apiEventSchema).min(1).max(MAX_BATCH),
});

export type ApiEventsBody = z.infer<typeof apiEventsBodySchema>;

export interface ApiEventsResult {
  accepted: number;
  dropped: Partial<Record<Outcome, number>>;
}

export const apiEventsResultSchema = z.object({
  accepted: z.number().int(),
  dropped: z
    .record(z.string(), z.number().int())
    .meta({ description: 'Events not counted, by reason: bot, spam, rate_limited.' }),
});

/** Parses a raw body with collect's normalisation; malformed bodies are booked and answered 400 with the field. */
export function parseApiEvents(siteId: string, body: string, now: number): ApiEventsBody {
  let json: unknown;
  try {
    json = parseStorableJson(body);
  } catch {
    ingestionLedger().record(siteId, now, 'malformed', 1, 'api');
    throw new EddyError('bad_request', 'Body is not valid JSON');
  }
  const parsed = apiEventsBodySchema.safeParse(json);
  if (!parsed.success) {
    ingestionLedger().record(siteId, now, 'malformed', 1, 'api');
    const issue = parsed.error.issues[0]!;
    throw new EddyError('bad_request', `Invalid field ${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Gates, identifies, enriches and produces a validated batch; resolves once the bus acknowledged. */
export async function ingestApiEvents(
  sitePublicKey: string,
  body: ApiEventsBody,
  now: number,
): Promise<ApiEventsResult> {
  const site = await findSiteByKey(sitePublicKey, now);
  if (!site) throw new EddyError('not_found', 'Site not found');
  const accepted: EventRecord[] = [];
  const outcomes: Outcome[] = [];
  for (const e of body.events) {
    const ua = parseUserAgent(e.user_agent);
    let outcome: Outcome = 'accepted';
    if (ua.bot) outcome = 'bot';
    else if (e.referrer && URL.canParse(e.referrer) && hostMatches(new URL(e.referrer).hostname, SPAM))
      outcome = 'spam';
    else if (!siteBudgetAllows(site, now)) outcome = 'rate_limited';
    outcomes.push(outcome);
    if (outcome !== 'accepted') continue;
    accepted.push(
      await buildRecord({
        eventId: e.id,
        name: e.name,
        url: e.url,
        referrer: e.referrer,
        props: e.props,
        request: e.request
          ? { method: e.request.method.toUpperCase(), status: e.request.status, durationMs: e.request.duration_ms }
          : undefined,
        ts: eventTime(now, e.timestamp, e.timestamp === undefined ? undefined : (body.sent_at ?? now)),
        site,
        ip: e.ip,
        userAgent: e.user_agent,
        ua,
        // A CDN's country header on this request describes the caller's server, not the end
        // user: the country comes from the end user's IP (GEOIP_DATABASE) or stays unknown.
        countryHeader: null,
        now,
      }),
    );
  }
  // As in collect: nothing is booked until the bus has every accepted event (on 503 the caller retries).
  await produceEvents(accepted, env().COLLECT_DEADLINE_MS);
  const ledger = ingestionLedger();
  const dropped: Partial<Record<Outcome, number>> = {};
  for (const o of outcomes) {
    ledger.record(site.id, now, o, 1, 'api');
    if (o !== 'accepted') dropped[o] = (dropped[o] ?? 0) + 1;
  }
  return { accepted: accepted.length, dropped };
}
