import type { Metadata } from 'next';
import { RecentActivityList } from '@/components/sites/recent-activity';
import { SnippetCheck } from '@/components/sites/snippet-check';
import { LOCALHOST_TIP } from '@/lib/sites/recent-activity';
import { SnippetBox } from '@/components/snippet-box';
import { Card } from '@/components/ui/card';
import { pageSite } from '@/lib/auth/page-access';
import { publicUrl } from '@/lib/env';
import { liveSnapshot } from '@/lib/live/snapshot';
import { siteHasData } from '@/lib/sites/site-has-data';
import { snippetFor } from '@/lib/sites/settings';

export const metadata: Metadata = { title: 'Tracking snippet' };

export default async function SnippetPage({ params }: { params: Promise<{ siteId: string }> }) {
  const { siteId } = await params;
  const { site } = await pageSite(siteId);
  const [snapshot, hasData] = await Promise.all([liveSnapshot(site.id, Date.now()), siteHasData(site.id)]);
  const snippet = snippetFor(site, publicUrl());
  return (
    <div className="grid gap-5 lg:grid-cols-5">
      <div className="space-y-5 lg:col-span-3">
        <SnippetBox snippet={snippet} />
        <Card title="Check the installation">
          <SnippetCheck
            siteId={site.id}
            initial={snapshot}
            alreadyReceiving={hasData}
            dashboardHref={`/sites/${site.id}`}
          />
        </Card>
        <Card title="Received and dropped">
          <RecentActivityList siteId={site.id} localhostTip={LOCALHOST_TIP} />
        </Card>
      </div>
      <Card title="How it works" className="lg:col-span-2">
        <ol className="list-decimal space-y-2 pl-5 text-sm text-slate-600">
          <li>
            Paste the tag into the <code>&lt;head&gt;</code> of every page of <strong>{site.domain}</strong>.
          </li>
          <li>Open one of those pages in a browser (ad blockers may block it, like any analytics script).</li>
          <li>This page turns green the moment the first event arrives — pushed to you, nothing to reload.</li>
        </ol>
        <h3 className="mt-5 text-sm font-semibold text-slate-800">Tracker options</h3>
        <ul className="mt-1 space-y-1 text-xs text-slate-600" data-testid="tracker-options">
          <li>
            <code>
              eddy(&apos;Signup&apos;, {'{'} plan: &apos;pro&apos; {'}'})
            </code>{' '}
            — a custom event with properties (for goals and funnels)
          </li>
          <li>
            <code>data-eddy-event=&quot;Signup&quot; data-eddy-prop-plan=&quot;pro&quot;</code> on a button — the same
            without code
          </li>
          <li>
            <code>data-404</code> on the tag of your 404 page · <code>data-hash</code> for hash routing ·{' '}
            <code>data-allow-localhost</code> to test locally
          </li>
          <li>Outbound links, file downloads, scroll depth and engaged time are sent automatically.</li>
        </ul>
        <p className="mt-1 text-xs text-slate-500">
          Every option:{' '}
          <a
            className="font-medium text-indigo-600 underline"
            href="/tracker-options.txt"
            data-testid="tracker-options-link"
          >
            tracker options
          </a>{' '}
          (<code>tracker/README.md</code>).
        </p>
        <p className="mt-4 text-xs text-slate-500">
          No cookies and nothing stored in the visitor’s browser. Events are accepted only from{' '}
          {site.allowedHostnames.length ? site.allowedHostnames.join(', ') : 'any hostname'}.
        </p>
      </Card>
    </div>
  );
}
