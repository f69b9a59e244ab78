import type { IncomingMessage, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import { clientIp, requestEvent, shouldSkip, type CaptureOptions, type RequestFacts } from './capture.js';
import type { EddyClient } from './client.js';

// The core every Node adapter uses: note the start, and when the response has been handed to
// the socket ('finish') or the connection closed first ('close'), queue one event. Nothing runs
// before the customer's handler but a clock read and a listener, and nothing that runs after can
// throw into their code.

export function instrument(
  client: EddyClient,
  req: IncomingMessage,
  res: ServerResponse,
  opts: CaptureOptions = {},
): void {
  try {
    const start = process.hrtime.bigint();
    // Only what may be gone after the response is read now (Express rewrites req.url in routers).
    const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const socketAddress = req.socket?.remoteAddress;
    const encrypted = req.socket instanceof TLSSocket;
    // 'close' follows 'finish' for a completed response, and also comes when the client left first.
    res.once('close', () => {
      try {
        const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
        // A connection closed before the response finished is recorded as 499 (client closed), as nginx does.
        const status = res.writableFinished ? res.statusCode : 499;
        const facts: RequestFacts = {
          method: req.method ?? 'GET',
          url,
          headers: req.headers,
          socketAddress,
          encrypted,
        };
        const ip = clientIp(req.headers, socketAddress, opts.trustProxy);
        // Skipped requests never take a place in the queue; building the event waits for its batch.
        if (!shouldSkip(facts, ip, opts)) client.capture(() => requestEvent(facts, ip, status, durationMs, opts));
      } catch {
        // never into the customer's code
      }
    });
  } catch {
    // never into the customer's code
  }
}

/** Wraps a node:http request listener: `http.createServer(withEddy(client, handler))`. */
export function withEddy<Req extends IncomingMessage, Res extends ServerResponse>(
  client: EddyClient,
  handler: (req: Req, res: Res) => void,
  opts: CaptureOptions = {},
): (req: Req, res: Res) => void {
  return (req, res) => {
    instrument(client, req, res, opts);
    handler(req, res);
  };
}
