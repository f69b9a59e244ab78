import { clientIp, requestEvent, shouldSkip, type CaptureOptions, type RequestFacts } from './capture.js';
import type { EddyClient } from './client.js';

// Next.js (app router) route handlers: `export const GET = withEddyRoute(client, async (req) => …)`.
// Route handlers run on Node, so the same client and queue serve them. The event is queued when
// the handler's Response is ready (a streamed body's time is not included); an error thrown by
// the handler is recorded as 500 and rethrown untouched.

type Handler<C> = (req: Request, ctx: C) => Response | Promise<Response>;

export function withEddyRoute<C>(
  client: EddyClient,
  handler: Handler<C>,
  opts: CaptureOptions = {},
): (req: Request, ctx: C) => Promise<Response> {
  return async (req, ctx) => {
    const start = performance.now();
    let facts: RequestFacts | undefined;
    let ip = '0.0.0.0';
    try {
      const u = new URL(req.url);
      const headers = Object.fromEntries(req.headers);
      // Next.js gives no socket: the client address can only come from a header your proxy (or Next's own server) sets.
      ip = clientIp(headers, '0.0.0.0', opts.trustProxy ?? true);
      facts = {
        method: req.method,
        url: `${u.pathname}${u.search}`,
        headers: { host: u.host, ...headers },
        socketAddress: undefined,
        encrypted: u.protocol === 'https:',
      };
      if (shouldSkip(facts, ip, opts)) facts = undefined;
    } catch {
      facts = undefined;
    }
    const record = (status: number) => {
      try {
        if (facts) client.track(requestEvent(facts, ip, status, performance.now() - start, opts));
      } catch {
        // never into the customer's code
      }
    };
    try {
      const res = await handler(req, ctx);
      record(res.status);
      return res;
    } catch (e) {
      record(500);
      throw e;
    }
  };
}
