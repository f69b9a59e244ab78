import { z } from 'zod';

// Runs in the browser before the app hydrates (Next.js instrumentation-client), so before any
// module builds a zod schema. zod probes whether it may compile parsers with `new Function`;
// under Eddy's CSP (no 'unsafe-eval'; lib/http/security-headers.mjs) the probe is refused and
// reported as a CSP violation on every dashboard load. jitless skips the probe and the compiled
// parsers in the browser only; the server keeps them (collect parses on the hot path).
z.config({ jitless: true });
