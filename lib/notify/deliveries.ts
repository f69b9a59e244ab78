import type pg from 'pg';
import type { Bus } from '../bus';
import { publicUrl } from '../env';
import { channelSchema, type Channel } from '../alerts/rules';
import { MAX_ATTEMPTS, retryDelayMs } from './backoff';
import { sendEmail, sendSlack, sendWebhook, type AlertPayload, type SendResult } from './channels';
import { notifyTeam } from './in-app';
import type { Queryable } from '@/lib/db/client';

// The delivery log and its sender. An alert event gets one delivery row per channel; the sender
// claims due rows (SKIP LOCKED, with a lease so a crashed sender's claim expires), sends, and
// records the outcome — ok, or a retry at 2 s, 4 s, 8 s … until MAX_ATTEMPTS, then failed.

/** What a delivery row shows as its target (never a secret). */
export function channelTarget(c: Channel): string {
  switch (c.kind) {
    case 'webhook':
    case 'slack':
      return c.url;
    case 'email':
      return c.to.join(', ');
    case 'inapp':
      return 'team members';
  }
}

export async function enqueueDeliveries(q: Queryable, eventId: string, channels: Channel[]): Promise<void> {
  if (channels.length === 0) return;
  await q.query(
    `INSERT INTO alert_deliveries (event_id, channel, target) SELECT $1, c, t FROM unnest($2::text[], $3::text[]) AS u(c, t)`,
    [eventId, channels.map((c) => c.kind), channels.map(channelTarget)],
  );
}

interface Claimed {
  id: string;
  channel: string;
  target: string;
  attempts: number;
  event_id: string;
  kind: string;
  value: number | null;
  message: string;
  payload: { baseline?: number | null; drivers?: AlertPayload['drivers'] };
  created_at: Date;
  rule_id: string;
  rule_name: string;
  condition: unknown;
  channels: unknown[];
  site_id: string;
  site_name: string;
}

const LEASE_S = 60;

export async function deliverDue(p: pg.Pool, b: Bus, opts: { eventId?: string; limit?: number } = {}): Promise<number> {
  const claimed = await p.query<Claimed>(
    `WITH due AS (
       SELECT id FROM alert_deliveries WHERE status = 'pending' AND next_attempt_at <= now() ${opts.eventId ? 'AND event_id = $2' : ''}
       ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE alert_deliveries d SET attempts = d.attempts + 1, next_attempt_at = now() + interval '${LEASE_S} seconds', updated_at = now()
     FROM due, alert_events e, alert_rules r, sites s
     WHERE d.id = due.id AND e.id = d.event_id AND r.id = e.rule_id AND s.id = r.site_id
     RETURNING d.id::text, d.channel, d.target, d.attempts, e.id::text AS event_id, e.kind, e.value, e.message, e.payload, e.created_at,
       r.id AS rule_id, r.name AS rule_name, r.condition, r.channels, s.id AS site_id, s.name AS site_name`,
    opts.eventId ? [opts.limit ?? 50, opts.eventId] : [opts.limit ?? 50],
  );
  await Promise.all(claimed.rows.map((d) => deliverOne(p, b, d)));
  return claimed.rows.length;
}

async function deliverOne(p: pg.Pool, b: Bus, d: Claimed): Promise<void> {
  const payload: AlertPayload = {
    id: d.event_id,
    type: d.kind === 'resolved' ? 'alert.resolved' : d.kind === 'test' ? 'alert.test' : 'alert.firing',
    at: d.created_at.toISOString(),
    site: { id: d.site_id, name: d.site_name },
    rule: { id: d.rule_id, name: d.rule_name, condition: d.condition },
    value: d.value,
    baseline: d.payload.baseline ?? null,
    drivers: d.payload.drivers ?? [],
    message: d.message,
    url: `${publicUrl()}/sites/${d.site_id}/alerts`,
  };
  const channel = d.channels
    .map((c) => channelSchema.safeParse(c))
    .flatMap((r) => (r.success ? [r.data] : []))
    .find((c) => c.kind === d.channel && channelTarget(c) === d.target);
  let result: SendResult;
  if (!channel) result = { ok: false, error: 'channel no longer configured on the rule' };
  else if (channel.kind === 'webhook') result = await sendWebhook(channel.url, channel.secret, payload);
  else if (channel.kind === 'slack') result = await sendSlack(channel.url, payload);
  else if (channel.kind === 'email')
    result = await sendEmail(channel.to, `[Eddy] ${d.message.split(':')[0]}`, `${d.message}\n\n${payload.url}\n`);
  else {
    try {
      await notifyTeam(p, b, {
        siteId: d.site_id,
        title: d.message.split(':')[0]!,
        body: d.message.slice(d.message.indexOf(':') + 1).trim(),
        link: `/sites/${d.site_id}/alerts`,
      });
      result = { ok: true };
    } catch (e) {
      result = { ok: false, error: (e as Error).message };
    }
  }
  const gaveUp = !result.ok && (d.attempts >= MAX_ATTEMPTS || !channel || result.permanent === true);
  await p.query(
    `UPDATE alert_deliveries SET status = $2, http_status = $3, error = $4, next_attempt_at = now() + ($5::int * interval '1 millisecond'), updated_at = now() WHERE id = $1`,
    [
      d.id,
      result.ok ? 'ok' : gaveUp ? 'failed' : 'pending',
      result.httpStatus ?? null,
      result.error ?? null,
      result.ok || gaveUp ? 0 : retryDelayMs(d.attempts),
    ],
  );
}
