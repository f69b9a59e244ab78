import type { Metadata } from 'next';
import Link from 'next/link';
import { Logo } from '@/components/logo';
import { DIMENSIONS } from '@/lib/analytics/dimensions';
import { RANGE_KEYS } from '@/lib/analytics/range';
import { publicUrl } from '@/lib/env';

export const metadata: Metadata = { title: 'API' };

// The API's docs page: how to authenticate and call each endpoint. The reference itself is the
// OpenAPI document, generated from the zod schemas the routes validate with (lib/public-api/openapi.ts).

const code = 'block overflow-x-auto rounded-lg bg-slate-900 p-3 font-mono text-xs leading-relaxed text-slate-100';

export default function ApiDocsPage() {
  const base = publicUrl();
  return (
    <main className="mx-auto max-w-3xl space-y-6 px-4 py-10 text-sm leading-relaxed text-slate-700">
      <Logo />
      <h1 className="text-2xl font-semibold text-slate-900">Eddy API</h1>
      <p>
        Send events from your server and read your site’s numbers. The full reference is the OpenAPI 3.1 document at{' '}
        <a className="text-indigo-600 underline" href="/api/v1/openapi.json">
          /api/v1/openapi.json
        </a>{' '}
        (load it into any OpenAPI viewer or client generator).
      </p>

      <h2 className="text-lg font-semibold text-slate-900">Keys</h2>
      <p>
        An admin of a site creates keys under <em>Site settings → API keys</em>. A key belongs to one site and has the
        scopes <code>events:write</code> and/or <code>stats:read</code>. It is shown once; Eddy keeps only a keyed hash
        of it. Send it as <code>Authorization: Bearer eddy_…</code>. Missing, unknown or revoked keys get 401, a missing
        scope 403, another site’s id 404, and more than the per-key rate 429 with <code>Retry-After</code>. Every error
        is JSON: <code>{'{"error":{"code":"…","message":"…"}}'}</code>.
      </p>

      <h2 className="text-lg font-semibold text-slate-900">Send events</h2>
      <pre className={code}>{`curl -X POST ${base}/api/v1/events \\
  -H "Authorization: Bearer $EDDY_KEY" -H "Content-Type: application/json" \\
  -d '{"sent_at": 1767225600000, "events": [
    {"id": "0b6f3c4e-3f57-4c53-9d55-1a2b3c4d5e6f", "name": "request", "url": "https://shop.example/api/orders",
     "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 …", "timestamp": 1767225599950,
     "request": {"method": "GET", "status": 200, "duration_ms": 12.5}},
    {"name": "signup", "url": "https://shop.example/welcome", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 …", "props": {"plan": "pro"}}
  ]}'`}</pre>
      <p>
        At most 25 events and 64 KB per request, with the same rules as the browser tracker. <code>ip</code> and{' '}
        <code>user_agent</code> are your end user’s: Eddy derives the visitor id from them exactly as the tracker does
        (the address is never stored). The answer is 202 once the events are durable; on 503 retry after{' '}
        <code>Retry-After</code> seconds with the same <code>id</code>s — each id is counted once. A{' '}
        <code>request</code> event is counted as a server request (shown in its own card), never as a pageview or
        visitor; send <code>pageview</code> for that. For Node servers, the <code>@eddy/node</code> middleware does all
        of this for you.
      </p>

      <h2 className="text-lg font-semibold text-slate-900">Read stats</h2>
      <pre
        className={code}
      >{`curl "${base}/api/v1/stats/aggregate?site_id=$SITE&range=30d" -H "Authorization: Bearer $EDDY_KEY"
curl "${base}/api/v1/stats/timeseries?site_id=$SITE&range=7d&country=DE" -H "Authorization: Bearer $EDDY_KEY"
curl "${base}/api/v1/stats/breakdown?site_id=$SITE&range=custom&from=2026-11-01&to=2026-11-30&dimension=page&limit=50&offset=50" -H "Authorization: Bearer $EDDY_KEY"
curl "${base}/api/v1/stats/realtime?site_id=$SITE" -H "Authorization: Bearer $EDDY_KEY"`}</pre>
      <p>
        The numbers are the dashboard’s, computed by the same queries in the site’s time zone. Ranges:{' '}
        {RANGE_KEYS.map((r) => (
          <code key={r}>{r} </code>
        ))}
        (custom with <code>from</code>/<code>to</code>, at most 366 days); <code>compare=none</code> skips the previous
        period. Filters and breakdown dimensions:{' '}
        {DIMENSIONS.map((d) => (
          <code key={d}>{d} </code>
        ))}
        — a filter is <code>?dimension=value</code>, as in the dashboard’s URL; <code>custom_event=Signup</code> and{' '}
        <code>event_prop=plan:pro</code> keep the visits in which that custom event (with that property value) was sent.
        Breakdowns page with <code>limit</code> (≤ 100) and <code>offset</code>; <code>next_offset</code> is null on the
        last page.
      </p>
      <p>
        <Link className="text-indigo-600 underline" href="/sites">
          Back to your sites
        </Link>
      </p>
    </main>
  );
}
