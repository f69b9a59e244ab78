import type { Metadata } from 'next';
import { LedgerView } from '@/components/sla/ledger-view';
import { pageSite } from '@/lib/auth/page-access';
import { siteLedger } from '@/lib/pipeline/ledger';

export const metadata: Metadata = { title: 'Ledger' };

export default async function SiteLedgerPage({ params }: { params: Promise<{ siteId: string }> }) {
  const { siteId } = await params;
  const { site } = await pageSite(siteId);
  const { minutes, totals } = await siteLedger(site.id, 24);
  return <LedgerView minutes={minutes} totals={totals} />;
}
