import type { Metadata } from 'next';
import { Suspense } from 'react';
import { Dashboard } from '@/components/dashboard/dashboard';
import { pageSite } from '@/lib/auth/page-access';
import { pool } from '@/lib/db/client';
import { importedRanges } from '@/lib/imports/manage';
import { liveSnapshot } from '@/lib/live/snapshot';

export const metadata: Metadata = { title: 'Dashboard' };

export default async function SiteDashboardPage({ params }: { params: Promise<{ siteId: string }> }) {
  const { siteId } = await params;
  const { site } = await pageSite(siteId);
  const initial = await liveSnapshot(site.id, Date.now());
  const imported = await importedRanges(pool(), site.id);
  const sourceName = { plausible: 'Plausible', umami: 'Umami', ga4: 'Google Analytics 4' } as const;
  return (
    <Suspense>
      {imported.length > 0 && (
        // Imported history is marked: its numbers were computed elsewhere (Plausible) or from another tool's events.
        <p
          className="mb-3 rounded-lg bg-amber-50 px-3 py-2 text-xs text-amber-900 ring-1 ring-amber-200"
          data-testid="imported-notice"
        >
          Includes imported data:{' '}
          {imported.map((r, i) => (
            <span key={r.source}>
              {i > 0 && '; '}
              {sourceName[r.source]} {r.firstDay} – {r.lastDay}
            </span>
          ))}
          .{' '}
          {imported.some((r) => r.source === 'plausible') &&
            'Plausible imports are daily totals and pages only: other breakdowns and visitors across days are not exact for those days.'}
        </p>
      )}
      <Dashboard
        apiBase={`/api/sites/${site.id}`}
        siteId={site.id}
        timezone={site.timezone}
        initialSnapshot={initial}
        snippetHref={`/sites/${site.id}/snippet`}
      />
    </Suspense>
  );
}
