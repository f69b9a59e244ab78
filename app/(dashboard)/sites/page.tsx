import type { Metadata } from 'next';
import Link from 'next/link';
import { ButtonLink } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/states';
import { sitesForMember } from '@/lib/auth/access';
import { pageUser } from '@/lib/auth/page-access';
import { roleLabel } from '@/lib/auth/roles';

export const metadata: Metadata = { title: 'Sites' };

export default async function SitesPage() {
  const user = await pageUser('/sites');
  const sites = await sitesForMember(user.id);
  return (
    <section>
      <div className="flex items-center justify-between gap-4">
        <h1 className="text-2xl font-semibold tracking-tight">Your sites</h1>
        {sites.length > 0 && <ButtonLink href="/sites/new">+ Add site</ButtonLink>}
      </div>
      {sites.length === 0 ? (
        <div className="mt-6 rounded-xl bg-white ring-1 ring-slate-200">
          <EmptyState
            icon="◎"
            title="No sites yet"
            action={<ButtonLink href="/sites/new">+ Add your first site</ButtonLink>}
          >
            Add a site, paste one script tag into its pages, and watch visitors arrive on a live dashboard.
          </EmptyState>
        </div>
      ) : (
        <ul className="mt-6 grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
          {sites.map((s) => (
            <li key={s.id}>
              <Link
                href={`/sites/${s.id}`}
                className="block rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200 transition hover:ring-indigo-300"
              >
                <div className="flex items-start justify-between gap-2">
                  <span className="truncate font-semibold text-slate-900">{s.name}</span>
                  <span className="shrink-0 rounded-full bg-slate-100 px-2 py-0.5 text-[11px] font-medium text-slate-600">
                    {roleLabel[s.role]}
                  </span>
                </div>
                <p className="mt-1 truncate text-sm text-slate-500">{s.domain}</p>
                <p className="mt-3 truncate text-xs text-slate-400">{s.teamName}</p>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
