import { pool } from '../db/client';
import { env } from '../env';
import { EddyError } from '../errors';
import type { EventRecord } from '../events/record';
import { parseStorableJson, storable } from '../events/storable';
import { findSiteByKey, hostnameAllowed, type SiteForIngest } from '../sites/find-site-by-key';
import { campaignFrom } from './enrich/campaign';
import { classifyChannel } from './enrich/channel';
import { countryFor } from './enrich/country';
import { hostMatches, SPAM } from './enrich/referrer-lists';
import { parseUserAgent } from './enrich/user-agent';
import { eventTime } from './event-time';
import { identify } from './identity/identify';
import { IngestionLedger, type Outcome } from './ledger';
import { collectBodySchema, type CollectEvent } from './payload';
import { produceEvents } from './produce';
import { clientKey, RateLimiter } from './rate-limit';

// The collect endpoint's domain logic: parse → validate → gate → identify → enrich → produce,
// with every event's outcome booked in the ingestion ledger. The route handler only reads the
// request and maps the result (or EddyError) to HTTP.

export const MAX_BODY_BYTES = 64 * 1024;

export interface IngestRequest {
  body: string;
  /** Resolved at the edge from the socket or the trusted proxy header, never from the payload. */
  ip: string;
  userAgent: string;
  /** Value of the trusted CDN country header, if one is configured and present. */
  countryHeader?: string | null;
  now: number;
}

export interface IngestResult {
  accepted: number;
  dropped: number;
}

// Three budgets (rate-limit.ts): client address, visitor, site — narrowest first.
const ipLimiter = new RateLimiter();
const visitorLimiter = new RateLimiter();
const siteLimiter = new RateLimiter();
let ledgerInstance: IngestionLedger | undefined;

/** Spends one event of the site's budget; the collect endpoint and the events API share it. */
export function siteBudgetAllows(site: SiteForIngest, now: number): boolean {
  return siteLimiter.allow(site.id, site.rateLimitPerMinute, now);
}

export function ingestionLedger(): IngestionLedger {
  if (!ledgerInstance) {
    ledgerInstance = new IngestionLedger(pool());
    ledgerInstance.start();
  }
  return ledgerInstance;
}

export async function ingest(req: IngestRequest): Promise<IngestResult> {
  const events = await parseBody(req);
  const ledger = ingestionLedger();
  const ua = parseUserAgent(req.userAgent);
  const accepted: EventRecord[] = [];
  const outcomes: { siteId: string | null; outcome: Outcome }[] = [];

  const config = env();
  for (const e of events) {
    const site = await findSiteByKey(e.s, req.now);
    const verdict = gate(e, site, ua.bot, req);
    if (verdict !== 'accepted' || !site) {
      outcomes.push({ siteId: site?.id ?? null, outcome: verdict });
      continue;
    }
    const record = await buildRecord({
      eventId: e.i,
      name: e.n,
      url: e.u,
      referrer: e.r,
      props: e.p,
      engagement: e.e ? { visibleMs: e.e.v, scrollDepth: e.e.d } : undefined,
      ts: eventTime(req.now, e.t, e.c),
      site,
      ip: req.ip,
      userAgent: req.userAgent,
      ua,
      countryHeader: req.countryHeader,
      now: req.now,
    });
    // The site's budget is spent last, and only by events every narrower budget let through.
    if (
      !visitorLimiter.allow(`${site.id}|${record.visitorId}`, config.COLLECT_VISITOR_RATE_PER_MINUTE, req.now) ||
      !siteBudgetAllows(site, req.now)
    ) {
      outcomes.push({ siteId: site.id, outcome: 'rate_limited' });
      continue;
    }
    accepted.push(record);
    outcomes.push({ siteId: site.id, outcome: 'accepted' });
  }

  // Only after the bus has every accepted event is anything booked: on 503 the client retries.
  await produceEvents(accepted, env().COLLECT_DEADLINE_MS);
  for (const o of outcomes) ledger.record(o.siteId, req.now, o.outcome);
  return { accepted: accepted.length, dropped: events.length - accepted.length };
}

async function parseBody(req: IngestRequest): Promise<CollectEvent[]> {
  let json: unknown;
  try {
    // Normalised before validation, so the byte limits hold for what is stored (a NUL becomes
    // a three-byte U+FFFD) and decode, which checks them again, accepts every record we produce.
    json = parseStorableJson(req.body);
  } catch {
    await bookMalformed(undefined, req.now);
    throw new EddyError('bad_request', 'Body is not valid JSON');
  }
  const parsed = collectBodySchema.safeParse(json);
  if (!parsed.success) {
    await bookMalformed(json, req.now);
    // With a union of object | array, report the issue of the branch that matches the shape.
    const issues = parsed.error.issues.flatMap((i) => (i.code === 'invalid_union' ? i.errors.flat() : [i]));
    const branch = Array.isArray(json)
      ? (issues.find((i) => typeof i.path[0] === 'number') ?? issues[0])
      : (issues.find((i) => typeof i.path[0] !== 'number') ?? issues[0]);
    const where = branch?.path.join('.') || 'body';
    throw new EddyError('bad_request', `Invalid field ${where}: ${branch?.message ?? 'invalid'}`);
  }
  return Array.isArray(parsed.data) ? parsed.data : [parsed.data];
}

/** A malformed body is booked against its site when it names a real one, else against no site. */
async function bookMalformed(json: unknown, now: number): Promise<void> {
  const key = json && typeof json === 'object' && !Array.isArray(json) ? (json as { s?: unknown }).s : undefined;
  const site = typeof key === 'string' && key.length <= 64 ? await findSiteByKey(key, now).catch(() => null) : null;
  ingestionLedger().record(site?.id ?? null, now, 'malformed');
}

function gate(e: CollectEvent, site: SiteForIngest | null, bot: boolean, req: IngestRequest): Outcome {
  if (!site) return 'unknown_site';
  if (!hostnameAllowed(site.allowedHostnames, new URL(e.u).hostname)) return 'hostname';
  if (bot) return 'bot';
  if (e.r && URL.canParse(e.r) && hostMatches(new URL(e.r).hostname, SPAM)) return 'spam';
  if (!ipLimiter.allow(clientKey(req.ip), env().COLLECT_IP_RATE_PER_MINUTE, req.now)) return 'rate_limited';
  return 'accepted';
}

/** What an event needs to become a record; the collect endpoint and the events API both build it. */
export interface RecordInput {
  eventId?: string;
  name: string;
  url: string;
  referrer?: string;
  props?: EventRecord['props'];
  engagement?: EventRecord['engagement'];
  request?: EventRecord['request'];
  /** Event time on the server's clock (eventTime()). */
  ts: number;
  site: SiteForIngest;
  /** The end user's address and user agent: from the connection (collect) or the authenticated caller (events API). */
  ip: string;
  userAgent: string;
  ua: ReturnType<typeof parseUserAgent>;
  countryHeader?: string | null;
  now: number;
}

/** Identify and enrich one validated event into the record every job consumes. */
export async function buildRecord(e: RecordInput): Promise<EventRecord> {
  const { site } = e;
  const url = new URL(e.url);
  const referrer = e.referrer ? new URL(e.referrer) : undefined;
  const campaign = campaignFrom(url);
  const config = env();
  // Every string PostgreSQL will be asked to store, made storable (lib/events/storable.ts): raw
  // payload strings and values decoded from the URL (utm_source=%00) alike.
  return storable({
    v: 1,
    // Lower case, as PostgreSQL prints a uuid: the jobs compare the ids they claimed with these.
    eventId: e.eventId?.toLowerCase() ?? crypto.randomUUID(),
    siteId: site.id,
    visitorId: await identify(pool(), {
      siteId: site.id,
      rotation: site.saltRotation,
      ip: e.ip,
      userAgent: e.userAgent,
      now: e.now,
    }),
    name: e.name,
    url: e.url,
    hostname: url.hostname,
    // Hash routes ("#/pricing") are pages of their own; the tracker only keeps the hash when the site opted in (data-hash).
    // Capped like the URL: percent-encoding can make a 2000-character URL's path longer than it.
    path: (url.hash.startsWith('#/') || url.hash.startsWith('#!/') ? `${url.pathname}${url.hash}` : url.pathname).slice(
      0,
      2000,
    ),
    referrer: e.referrer || undefined,
    referrerHost: referrer?.hostname.replace(/^www\./, ''),
    channel: classifyChannel({
      pageHost: url.hostname,
      referrerHost: referrer?.hostname,
      campaign,
      siteHosts: site.allowedHostnames,
    }),
    utm: campaign.utm,
    clickIds: campaign.clickIds,
    props: e.props,
    engagement: e.engagement,
    request: e.request,
    device: e.ua.device,
    browser: e.ua.browser,
    os: e.ua.os,
    country: countryFor({ headerValue: e.countryHeader, ip: e.ip, geoDatabase: config.GEOIP_DATABASE }),
    ts: e.ts,
    receivedAt: e.now,
  } satisfies EventRecord);
}
