import type { Metadata } from 'next';
import Link from 'next/link';
import { CreateTeam } from '@/components/teams/create-team';
import { Card } from '@/components/ui/card';
import { teamsForMember } from '@/lib/auth/access';
import { pageUser } from '@/lib/auth/page-access';
import { roleLabel } from '@/lib/auth/roles';

export const metadata: Metadata = { title: 'Teams' };

export default async function TeamsPage() {
  const user = await pageUser('/teams');
  const teams = await teamsForMember(user.id);
  return (
    <section className="space-y-5">
      <h1 className="text-2xl font-semibold tracking-tight">Teams</h1>
      <ul className="grid gap-3 sm:grid-cols-2">
        {teams.map((t) => (
          <li key={t.id}>
            <Link
              href={`/teams/${t.id}`}
              className="block rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200 hover:ring-indigo-300"
            >
              <div className="flex items-start justify-between gap-2">
                <span className="truncate font-semibold">{t.name}</span>
                <span className="rounded-full bg-slate-100 px-2 py-0.5 text-[11px] font-medium text-slate-600">
                  {roleLabel[t.role]}
                </span>
              </div>
              <p className="mt-2 text-sm text-slate-500">
                {t.members} {t.members === 1 ? 'member' : 'members'} · {t.sites} {t.sites === 1 ? 'site' : 'sites'}
              </p>
            </Link>
          </li>
        ))}
      </ul>
      <Card title="New team">
        <CreateTeam />
      </Card>
    </section>
  );
}
