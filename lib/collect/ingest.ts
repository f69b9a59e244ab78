import { randomUUID } from 'node:crypto';
import { env } from '../env';
import { EddyError } from '../errors';
import { bus, topics } from '../bus';
import { eventKey, type EventRecord } from '../events/record';
import { findSiteByKey } from '../sites/find-site-by-key';
import { collectPayloadSchema } from './payload';
import { visitorId } from './visitor-id';

// The collect endpoint's domain logic: validate → identify → gate → produce. The route handler
// only reads the request and maps the outcome to HTTP.

export const MAX_BODY_BYTES = 64 * 1024;

export interface IngestRequest {
  body: string;
  ip: string;
  userAgent: string;
  now: number;
}

export type IngestOutcome =
  | { status: 'accepted'; eventId: string }
  /** Dropped on purpose (unknown site, disallowed host…): answered 202 so bots learn nothing. */
  | { status: 'dropped'; reason: 'unknown_site' | 'hostname_not_allowed' };

export async function ingest(req: IngestRequest): Promise<IngestOutcome> {
  let json: unknown;
  try {
    json = JSON.parse(req.body);
  } catch {
    throw new EddyError('bad_request', 'Body is not valid JSON');
  }
  const parsed = collectPayloadSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EddyError('bad_request', `Invalid field ${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  const p = parsed.data;
  const site = await findSiteByKey(p.s, req.now);
  if (!site) return { status: 'dropped', reason: 'unknown_site' };
  const hostname = new URL(p.u).hostname;
  if (site.allowedHostnames.length > 0 && !site.allowedHostnames.includes(hostname)) return { status: 'dropped', reason: 'hostname_not_allowed' };

  const record: EventRecord = {
    v: 1,
    eventId: p.i ?? randomUUID(),
    siteId: site.id,
    visitorId: visitorId({ secret: secret(), siteId: site.id, ip: req.ip, userAgent: req.userAgent, now: req.now }),
    name: p.n,
    url: p.u,
    ts: req.now,
  };
  await produceWithDeadline(record, env().COLLECT_DEADLINE_MS);
  return { status: 'accepted', eventId: record.eventId };
}

function secret(): string {
  return env().AUTH_SECRET ?? 'eddy-dev-secret-not-for-production';
}

/** 2xx only after the bus acknowledged; past the deadline the client retries with the same id. */
async function produceWithDeadline(record: EventRecord, deadlineMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EddyError('unavailable', 'Event bus did not acknowledge in time', { retryAfter: 2 })), deadlineMs);
  });
  try {
    await Promise.race([bus().producer().send(topics.events, [{ key: eventKey(record), value: JSON.stringify(record), timestamp: record.ts }]), deadline]);
  } catch (e) {
    if (e instanceof EddyError) throw e;
    console.error(`[collect] bus send failed: ${(e as Error).message}`);
    throw new EddyError('unavailable', 'Event bus unavailable', { cause: e, retryAfter: 2 });
  } finally {
    clearTimeout(timer);
  }
}
