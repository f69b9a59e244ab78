// @ts-check
// Security headers on every response Eddy produces: next.config.mjs applies them to everything
// Next.js answers (pages, route handlers, static files) and server/index.ts to the collect fast
// path, which answers before Next.js. Plain JavaScript because next.config.mjs imports it.
//
// script-src allows 'unsafe-inline': the App Router streams its payload in inline <script>
// tags, and the alternative — a per-request nonce — makes every page dynamic and depends on
// Next.js picking the nonce out of a request header. So this policy does not stop an injected
// inline script; React's escaping is the defence there. What it does stop: scripts, frames,
// plugins and styles from any other origin, fetch/WebSocket exfiltration to another origin
// (connect-src), <base> and form-action hijacking, and any site framing Eddy (clickjacking).
// No product page offers embedding (share pages included), so frame-ancestors is 'none' everywhere.

/** The Content-Security-Policy of every page (and API response, where it is inert but harmless). */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  // Next.js and React set inline style attributes; no external stylesheets.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  // Route handlers and the Socket.IO live connection, same origin only ('self' covers ws:/wss:).
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** @type {{ key: string, value: string }[]} */
export const SECURITY_HEADERS = [
  { key: 'Content-Security-Policy', value: CONTENT_SECURITY_POLICY },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  // Other sites learn our origin at most, never a dashboard path or a share-link token.
  { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
  // frame-ancestors' predecessor, for browsers that predate CSP 2.
  { key: 'X-Frame-Options', value: 'DENY' },
];
