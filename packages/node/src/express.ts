import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CaptureOptions } from './capture.js';
import { EddyClient, type EddyClientOptions } from './client.js';
import { instrument } from './node-http.js';

// Express and Connect middleware: `app.use(eddy({ apiKey, endpoint }))`. Calls next() at once,
// synchronously; the event is queued after the response finished.

export type EddyMiddleware = ((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void) & {
  client: EddyClient;
};

export function eddy(
  options: (EddyClientOptions & CaptureOptions) | ({ client: EddyClient } & CaptureOptions),
): EddyMiddleware {
  const client = 'client' in options ? options.client : new EddyClient(options);
  const middleware = ((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
    instrument(client, req, res, options);
    next();
  }) as EddyMiddleware;
  middleware.client = client;
  return middleware;
}
