import nodemailer from 'nodemailer';
import { env } from '../env';
import { isEddyError } from '../errors';
import { sendOutbound } from '../outbound/send';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signPayload } from './sign';

// The outbound channels. Each returns a result instead of throwing, so the delivery log can
// record what happened (HTTP status or error) and schedule a retry.

export interface SendResult {
  ok: boolean;
  httpStatus?: number;
  error?: string;
  /** The target was refused by the outbound guard: retrying cannot help. */
  permanent?: boolean;
}

const TIMEOUT_MS = 5000;

export interface AlertPayload {
  id: string;
  type: 'alert.firing' | 'alert.resolved' | 'alert.test';
  at: string;
  site: { id: string; name: string };
  rule: { id: string; name: string; condition: unknown };
  value: number | null;
  baseline: number | null;
  drivers: { dimension: string; value: string; count: number; delta: number }[];
  message: string;
  url: string;
}

// Webhook and Slack URLs are user-supplied, so they go through the outbound guard (resolved,
// checked, pinned, redirects checked hop by hop), never through a bare fetch.
async function post(url: string, body: string, headers: Record<string, string>): Promise<SendResult> {
  try {
    const res = await sendOutbound(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'Eddy-Alerts/1', ...headers },
      timeoutMs: TIMEOUT_MS,
    });
    const ok = res.status >= 200 && res.status < 300;
    return ok
      ? { ok: true, httpStatus: res.status }
      : { ok: false, httpStatus: res.status, error: `HTTP ${res.status}` };
  } catch (e) {
    if (isEddyError(e)) return { ok: false, error: `refused: ${e.message}`.slice(0, 300), permanent: true };
    return { ok: false, error: (e as Error).message.slice(0, 300) };
  }
}

export function sendWebhook(
  url: string,
  secret: string | undefined,
  payload: AlertPayload,
  now = Date.now(),
): Promise<SendResult> {
  const body = JSON.stringify(payload);
  const ts = Math.floor(now / 1000);
  return post(
    url,
    body,
    secret ? { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signPayload(secret, ts, body) } : {},
  );
}

/** Slack's incoming-webhook format (also accepted by Mattermost, Rocket.Chat, Discord's /slack endpoint). */
export function slackBody(p: AlertPayload): { text: string; blocks: unknown[] } {
  const emoji =
    p.type === 'alert.resolved' ? ':white_check_mark:' : p.type === 'alert.test' ? ':test_tube:' : ':rotating_light:';
  return {
    text: `${emoji} ${p.message}`,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `${emoji} *${p.rule.name}* on *${p.site.name}*\n${p.message}` },
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `<${p.url}|Open in Eddy> · ${p.at}` }] },
    ],
  };
}

export function sendSlack(url: string, p: AlertPayload): Promise<SendResult> {
  return post(url, JSON.stringify(slackBody(p)), {});
}

let transport: nodemailer.Transporter | undefined;

export async function sendEmail(to: string[], subject: string, text: string, html?: string): Promise<SendResult> {
  const url = env().SMTP_URL;
  if (!url) return { ok: false, error: 'SMTP_URL is not set' };
  transport ??= nodemailer.createTransport(url);
  try {
    await transport.sendMail({ from: env().SMTP_FROM, to, subject, text, html });
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message.slice(0, 300) };
  }
}
