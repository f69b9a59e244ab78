// @eddy/node: server-side request analytics for Eddy. See README.md.
export { EddyClient, type EddyClientOptions, type EddyClientStats, type EddyEvent, type TrackInput } from './client.js';
export { clientIp, cleanPath, isStaticPath, isLoopback, type CaptureOptions } from './capture.js';
export { instrument, withEddy } from './node-http.js';
export { eddy, type EddyMiddleware } from './express.js';
export { withEddyRoute } from './next.js';
