'use client';
import Link from 'next/link';
import type { LiveSnapshot } from '@/lib/live/snapshot';
import { useLive } from '../live/use-live';
import { Spinner } from '../ui/states';

// "Waiting for your first event…" that turns green by itself: the page joins the site's live
// room and the first pushed snapshot that shows an event flips it. Nothing polls.

function hasEvents(s: LiveSnapshot): boolean {
  return s.latestEventAt !== null || s.minutes.some((m) => m.pageviews > 0);
}

export function SnippetCheck({
  siteId,
  initial,
  alreadyReceiving,
  dashboardHref,
}: {
  siteId: string;
  initial: LiveSnapshot;
  alreadyReceiving: boolean;
  dashboardHref: string;
}) {
  const { snapshot, status } = useLive(siteId, initial);
  const received = alreadyReceiving || hasEvents(snapshot);
  if (received) {
    return (
      <div
        data-testid="snippet-status"
        data-state="received"
        className="flex items-start gap-3 rounded-lg bg-emerald-50 p-4 ring-1 ring-emerald-200"
      >
        <span className="mt-0.5 flex h-6 w-6 shrink-0 items-center justify-center rounded-full bg-emerald-500 text-sm text-white">
          ✓
        </span>
        <div>
          <p className="font-medium text-emerald-900">Receiving events</p>
          <p className="text-sm text-emerald-800">
            Your snippet works.{' '}
            <Link href={dashboardHref} className="font-medium underline">
              Open the dashboard →
            </Link>
          </p>
        </div>
      </div>
    );
  }
  return (
    <div
      data-testid="snippet-status"
      data-state="waiting"
      className="flex items-start gap-3 rounded-lg bg-slate-50 p-4 ring-1 ring-slate-200"
    >
      <Spinner className="mt-1 h-5 w-5 text-indigo-500" />
      <div>
        <p className="font-medium text-slate-800">Waiting for your first event…</p>
        <p className="text-sm text-slate-500">
          {status === 'offline'
            ? 'Reconnecting to Eddy…'
            : status === 'denied'
              ? 'You no longer have access to this site.'
              : 'Open a page with the snippet; this turns green as soon as its pageview arrives. Nothing after a minute? “Received and dropped” below says why.'}
        </p>
      </div>
    </div>
  );
}
