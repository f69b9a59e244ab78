import type { Metadata } from 'next';
import Link from 'next/link';
import { SiteForm } from '@/components/sites/site-form';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/states';
import { teamsForMember } from '@/lib/auth/access';
import { pageUser } from '@/lib/auth/page-access';
import { atLeast } from '@/lib/auth/roles';

export const metadata: Metadata = { title: 'New site' };

export default async function NewSitePage() {
  const user = await pageUser('/sites/new');
  const teams = (await teamsForMember(user.id)).filter((t) => atLeast(t.role, 'admin'));
  return (
    <section className="mx-auto max-w-2xl">
      <Link href="/sites" className="text-sm text-slate-500 hover:text-slate-700">
        ← Sites
      </Link>
      <h1 className="mt-2 text-2xl font-semibold tracking-tight">Add a site</h1>
      <p className="mt-1 text-sm text-slate-500">You will get the script tag to paste on the next page.</p>
      <Card className="mt-6">
        {teams.length === 0 ? (
          <EmptyState title="You cannot add sites yet">
            Only owners and admins of a team can add sites.{' '}
            <Link href="/teams" className="text-indigo-600 underline">
              Create a team
            </Link>{' '}
            of your own.
          </EmptyState>
        ) : (
          <SiteForm mode="create" teams={teams.map((t) => ({ id: t.id, name: t.name }))} />
        )}
      </Card>
    </section>
  );
}
