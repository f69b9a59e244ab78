import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isUuid } from '../auth/access';
import { atLeast, type Role } from '../auth/roles';
import { bus } from '../bus';
import { pool, transaction } from '../db/client';
import { EddyError } from '../errors';
import { deliverDue, enqueueDeliveries } from '../notify/deliveries';
import { validateOutboundUrl } from '../outbound/resolve-target';
import { alertMessage, type AlertState, type Observation } from './evaluate';
import { channelSchema, conditionSchema, ruleInputSchema, type Channel, type RuleInput } from './rules';
import { MINUTE } from '@/lib/time';

// Alert rules of one site (the caller has already passed the membership check for `siteId`;
// every query is scoped by it as well, so a rule id of another site is simply not found).

export const rulePatchSchema = ruleInputSchema.partial();

export interface RuleView {
  id: string;
  name: string;
  condition: RuleInput['condition'];
  forSeconds: number;
  cooldownSeconds: number;
  channels: Channel[];
  muted: boolean;
  status: AlertState['status'];
  lastValue: number | null;
  createdAt: string;
}

interface Row {
  id: string;
  name: string;
  condition: unknown;
  for_seconds: number;
  cooldown_seconds: number;
  channels: unknown[];
  muted: boolean;
  state: { machine?: AlertState; observation?: Observation } | null;
  created_at: Date;
}

/**
 * A webhook or Slack URL as a viewer sees it: scheme and host only. The path and query of such
 * URLs are the credential (anyone holding a Slack incoming-webhook URL can post to the channel),
 * and user:password may sit in the authority.
 */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '…';
  }
}

/** What a member of `role` may see of a channel: admins configure channels and see them whole. */
function channelFor(c: Channel, role: Role): Channel {
  if (atLeast(role, 'admin')) return c;
  if (c.kind === 'webhook') return { kind: 'webhook', url: maskUrl(c.url) };
  if (c.kind === 'slack') return { kind: 'slack', url: maskUrl(c.url) };
  return c;
}

function view(r: Row, role: Role): RuleView {
  const channels = r.channels.flatMap((c) => {
    const p = channelSchema.safeParse(c);
    return p.success ? [channelFor(p.data, role)] : [];
  });
  return {
    id: r.id,
    name: r.name,
    condition: conditionSchema.parse(r.condition),
    forSeconds: r.for_seconds,
    cooldownSeconds: r.cooldown_seconds,
    channels,
    muted: r.muted,
    status: r.state?.machine?.status ?? 'ok',
    lastValue: r.state?.observation?.value ?? null,
    createdAt: r.created_at.toISOString(),
  };
}

/** Refuses (400, naming the field) a channel URL that resolves to a target Eddy will not send to. */
async function checkChannelTargets(channels: Channel[]): Promise<void> {
  for (const [i, c] of channels.entries()) {
    if (c.kind === 'webhook' || c.kind === 'slack') await validateOutboundUrl(c.url, `channels.${i}.url`);
  }
}

/** Webhooks get a signing secret when none is given. */
function withSecrets(channels: Channel[]): Channel[] {
  return channels.map((c) =>
    c.kind === 'webhook' && !c.secret ? { ...c, secret: `whsec_${randomBytes(24).toString('base64url')}` } : c,
  );
}

const COLS = 'id, name, condition, for_seconds, cooldown_seconds, channels, muted, state, created_at';

export async function listRules(siteId: string, role: Role): Promise<RuleView[]> {
  const r = await pool().query<Row>(`SELECT ${COLS} FROM alert_rules WHERE site_id = $1 ORDER BY created_at`, [siteId]);
  return r.rows.map((x) => view(x, role));
}

export async function createRule(siteId: string, input: RuleInput, role: Role): Promise<RuleView> {
  const count = await pool().query<{ n: string }>('SELECT count(*)::text AS n FROM alert_rules WHERE site_id = $1', [
    siteId,
  ]);
  if (Number(count.rows[0]!.n) >= 50)
    throw new EddyError('bad_request', 'name: a site can have at most 50 alert rules');
  await checkChannelTargets(input.channels);
  const r = await pool().query<Row>(
    `INSERT INTO alert_rules (id, site_id, name, condition, for_seconds, cooldown_seconds, channels, muted) VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7) RETURNING ${COLS}`,
    [
      siteId,
      input.name,
      JSON.stringify(input.condition),
      input.forSeconds,
      input.cooldownSeconds,
      JSON.stringify(withSecrets(input.channels)),
      input.muted,
    ],
  );
  return view(r.rows[0]!, role);
}

async function ruleRow(siteId: string, ruleId: string): Promise<Row> {
  if (!isUuid(ruleId)) throw new EddyError('not_found', 'Alert rule not found');
  const r = await pool().query<Row>(`SELECT ${COLS} FROM alert_rules WHERE id = $1 AND site_id = $2`, [ruleId, siteId]);
  if (!r.rows[0]) throw new EddyError('not_found', 'Alert rule not found');
  return r.rows[0];
}

export async function updateRule(
  siteId: string,
  ruleId: string,
  patch: z.infer<typeof rulePatchSchema>,
  role: Role,
): Promise<RuleView> {
  const cur = await ruleRow(siteId, ruleId);
  if (patch.channels) await checkChannelTargets(patch.channels);
  const conditionChanged =
    patch.condition !== undefined && JSON.stringify(patch.condition) !== JSON.stringify(cur.condition);
  // Keep the existing secret of a webhook whose URL is unchanged and whose secret was not resent.
  const oldChannels = cur.channels.flatMap((c) => {
    const p = channelSchema.safeParse(c);
    return p.success ? [p.data] : [];
  });
  const secretOf = (url: string) =>
    oldChannels.flatMap((o) => (o.kind === 'webhook' && o.url === url && o.secret ? [o.secret] : []))[0];
  const channels = patch.channels?.map((c) =>
    c.kind === 'webhook' && !c.secret ? { ...c, secret: secretOf(c.url) } : c,
  );
  const r = await pool().query<Row>(
    `UPDATE alert_rules SET name = COALESCE($3, name), condition = COALESCE($4, condition), for_seconds = COALESCE($5, for_seconds),
       cooldown_seconds = COALESCE($6, cooldown_seconds), channels = COALESCE($7, channels), muted = COALESCE($8, muted),
       state = CASE WHEN $9 THEN NULL ELSE state END, updated_at = now()
     WHERE id = $1 AND site_id = $2 RETURNING ${COLS}`,
    [
      ruleId,
      siteId,
      patch.name ?? null,
      patch.condition ? JSON.stringify(patch.condition) : null,
      patch.forSeconds ?? null,
      patch.cooldownSeconds ?? null,
      channels ? JSON.stringify(withSecrets(channels)) : null,
      patch.muted ?? null,
      conditionChanged,
    ],
  );
  return view(r.rows[0]!, role);
}

export async function deleteRule(siteId: string, ruleId: string): Promise<void> {
  await ruleRow(siteId, ruleId);
  await pool().query('DELETE FROM alert_rules WHERE id = $1 AND site_id = $2', [ruleId, siteId]);
}

/**
 * Test-fire limits. Each test sends one request per channel and the history shows the outcome, so
 * without a limit it is a probe an admin can aim anywhere, as fast as they can click. Counted from
 * the test events themselves (in PostgreSQL, so every web process sees the same count).
 */
export const TEST_FIRE_LIMITS = {
  perRule: { max: 5, windowMs: 10 * MINUTE },
  perUser: { max: 20, windowMs: 60 * MINUTE },
};

/** Sends a test notification through every channel of the rule now (and logs the deliveries). */
export async function testFire(
  siteId: string,
  siteName: string,
  ruleId: string,
  userId: string,
): Promise<{ eventId: string }> {
  const r = await ruleRow(siteId, ruleId);
  const condition = conditionSchema.parse(r.condition);
  const obs: Observation = r.state?.observation ?? { value: null };
  const message = alertMessage({ name: r.name, condition }, obs, 'test', siteName);
  const { perRule, perUser } = TEST_FIRE_LIMITS;
  const eventId = await transaction(pool(), async (client) => {
    // Serialise tests of one rule and of one user (always in this order: no deadlock), so
    // concurrent clicks cannot all pass the count together.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1)), pg_advisory_xact_lock(hashtext($2))', [
      `test-fire:rule:${ruleId}`,
      `test-fire:user:${userId}`,
    ]);
    // A user can only test rules of sites they are a member of, so those sites hold all their tests.
    const used = await client.query<{ by_rule: number; by_user: number }>(
      `SELECT count(*) FILTER (WHERE e.rule_id = $1 AND e.created_at > now() - make_interval(secs => $4::float8 / 1000))::int AS by_rule,
              count(*) FILTER (WHERE e.payload->>'firedBy' = $2 AND e.created_at > now() - make_interval(secs => $5::float8 / 1000))::int AS by_user
         FROM alert_events e
        WHERE e.kind = 'test' AND e.created_at > now() - make_interval(secs => greatest($4, $5)::float8 / 1000)
          AND e.site_id IN (SELECT s.id FROM sites s JOIN memberships m ON m.team_id = s.team_id WHERE m.user_id = $3)`,
      [ruleId, userId, userId, perRule.windowMs, perUser.windowMs],
    );
    const u = used.rows[0]!;
    if (u.by_rule >= perRule.max || u.by_user >= perUser.max) {
      const [limit, what] = u.by_rule >= perRule.max ? [perRule, 'this rule'] : [perUser, 'your account'];
      throw new EddyError(
        'rate_limited',
        `At most ${limit.max} test notifications per ${limit.windowMs / MINUTE} minutes for ${what}; try again later`,
        {
          retryAfter: Math.ceil(limit.windowMs / 1000),
        },
      );
    }
    const ins = await client.query<{ id: string }>(
      `INSERT INTO alert_events (rule_id, site_id, kind, dedup_key, value, message, payload) VALUES ($1, $2, 'test', $3, $4, $5, $6) RETURNING id::text`,
      [
        ruleId,
        siteId,
        `test:${randomBytes(8).toString('hex')}`,
        obs.value,
        message,
        JSON.stringify({ baseline: obs.baseline ?? null, drivers: obs.drivers ?? [], firedBy: userId }),
      ],
    );
    const id = ins.rows[0]!.id;
    await enqueueDeliveries(
      client,
      id,
      r.channels.flatMap((c) => {
        const p = channelSchema.safeParse(c);
        return p.success ? [p.data] : [];
      }),
    );
    return id;
  });
  await deliverDue(pool(), bus(), { eventId });
  return { eventId };
}

export interface HistoryItem {
  id: string;
  ruleId: string;
  ruleName: string;
  kind: string;
  suppressed: string | null;
  message: string;
  at: string;
  deliveries: {
    channel: string;
    target: string;
    status: string;
    attempts: number;
    httpStatus: number | null;
    error: string | null;
  }[];
}

export async function alertHistory(siteId: string, role: Role, limit = 100): Promise<HistoryItem[]> {
  const r = await pool().query<{
    id: string;
    rule_id: string;
    rule_name: string;
    kind: string;
    suppressed: string | null;
    message: string;
    created_at: Date;
    deliveries: HistoryItem['deliveries'] | null;
  }>(
    `SELECT e.id::text, e.rule_id, r.name AS rule_name, e.kind, e.suppressed, e.message, e.created_at,
       (SELECT json_agg(json_build_object('channel', d.channel, 'target', d.target, 'status', d.status, 'attempts', d.attempts, 'httpStatus', d.http_status, 'error', d.error) ORDER BY d.id)
        FROM alert_deliveries d WHERE d.event_id = e.id) AS deliveries
     FROM alert_events e JOIN alert_rules r ON r.id = e.rule_id WHERE e.site_id = $1 ORDER BY e.id DESC LIMIT $2`,
    [siteId, limit],
  );
  // A delivery's target is the channel URL itself, so it is masked like the rule's channels.
  const masked = !atLeast(role, 'admin');
  const deliveries = (list: HistoryItem['deliveries'] | null) =>
    (list ?? []).map((d) =>
      masked && (d.channel === 'webhook' || d.channel === 'slack') ? { ...d, target: maskUrl(d.target) } : d,
    );
  return r.rows.map((x) => ({
    id: x.id,
    ruleId: x.rule_id,
    ruleName: x.rule_name,
    kind: x.kind,
    suppressed: x.suppressed,
    message: x.message,
    at: x.created_at.toISOString(),
    deliveries: deliveries(x.deliveries),
  }));
}
