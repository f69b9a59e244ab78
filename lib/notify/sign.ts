import { createHmac, timingSafeEqual } from 'node:crypto';

// Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the channel's secret, sent as
//   X-Eddy-Timestamp: <unix seconds>
//   X-Eddy-Signature: sha256=<hex>
// The timestamp is signed too, so a captured request cannot be replayed later with a new one.

export const SIGNATURE_HEADER = 'x-eddy-signature';
export const TIMESTAMP_HEADER = 'x-eddy-timestamp';

export function signPayload(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): checks the signature and that the timestamp is within `toleranceS` of now. */
export function verifySignature(
  secret: string,
  timestamp: string | null,
  body: string,
  signature: string | null,
  now = Date.now(),
  toleranceS = 300,
): boolean {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(now / 1000 - Number(timestamp)) > toleranceS) return false;
  const want = Buffer.from(signPayload(secret, Number(timestamp), body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
