import type { Metadata } from 'next';
import Link from 'next/link';
import { DeleteTeam } from '@/components/teams/delete-team';
import { TeamInvites, TeamMembers } from '@/components/teams/team-members';
import { Card } from '@/components/ui/card';
import { pageTeam } from '@/lib/auth/page-access';
import { atLeast, roleLabel } from '@/lib/auth/roles';

export const metadata: Metadata = { title: 'Team' };

export default async function TeamPage({ params }: { params: Promise<{ teamId: string }> }) {
  const { teamId } = await params;
  const { user, team } = await pageTeam(teamId);
  return (
    <section className="space-y-5">
      <div>
        <Link href="/teams" className="text-sm text-slate-500 hover:text-slate-700">
          ← Teams
        </Link>
        <h1 className="mt-1 text-2xl font-semibold tracking-tight">{team.name}</h1>
        <p className="text-sm text-slate-500">Your role: {roleLabel[team.role]}</p>
      </div>
      <div className="grid gap-5 lg:grid-cols-2">
        <Card title="Members">
          <TeamMembers teamId={team.id} myRole={team.role} myId={user.id} />
        </Card>
        {atLeast(team.role, 'admin') && (
          <Card title="Invite people">
            <TeamInvites teamId={team.id} myRole={team.role} />
          </Card>
        )}
      </div>
      {team.role === 'owner' && (
        <Card title="Delete team">
          <DeleteTeam teamId={team.id} name={team.name} />
        </Card>
      )}
    </section>
  );
}
