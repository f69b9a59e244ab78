import Link from 'next/link';
import type { ReactNode } from 'react';
import { NavLink } from '@/components/nav-link';
import { pageSite } from '@/lib/auth/page-access';
import { atLeast } from '@/lib/auth/roles';

export default async function SiteLayout({
  children,
  params,
}: {
  children: ReactNode;
  params: Promise<{ siteId: string }>;
}) {
  const { siteId } = await params;
  const { site } = await pageSite(siteId);
  const base = `/sites/${site.id}`;
  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="min-w-0">
          <Link href="/sites" className="text-xs text-slate-500 hover:text-slate-700">
            {site.teamName}
          </Link>
          <h1 className="truncate text-2xl font-semibold tracking-tight" data-testid="site-name">
            {site.name}
          </h1>
          <p className="truncate text-sm text-slate-500">{site.domain}</p>
        </div>
        <nav className="flex flex-wrap gap-1 rounded-lg bg-white p-1 ring-1 ring-slate-200" aria-label="Site">
          <NavLink href={base} exact>
            Dashboard
          </NavLink>
          <NavLink href={`${base}/goals`}>Goals</NavLink>
          <NavLink href={`${base}/snippet`}>Snippet</NavLink>
          <NavLink href={`${base}/alerts`}>Alerts</NavLink>
          <NavLink href={`${base}/sla`}>SLA</NavLink>
          <NavLink href={`${base}/ledger`}>Ledger</NavLink>
          {atLeast(site.role, 'admin') && <NavLink href={`${base}/settings`}>Settings</NavLink>}
        </nav>
      </div>
      {children}
    </div>
  );
}
