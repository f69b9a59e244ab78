import { MAX_CLIENT_AGE_MS } from './payload';

/**
 * Event time on the server's clock. The client's clock may be wrong by hours, but the *age* it
 * reports (send time − event time, both on its own clock) is not affected by skew; that age,
 * clamped to [0, MAX_CLIENT_AGE_MS], dates queued and retried events correctly.
 */
export function eventTime(serverNow: number, clientEventTime?: number, clientSendTime?: number): number {
  if (clientEventTime === undefined || clientSendTime === undefined) return serverNow;
  const age = Math.min(MAX_CLIENT_AGE_MS, Math.max(0, clientSendTime - clientEventTime));
  return serverNow - age;
}
