import type { Metadata } from 'next';
import Link from 'next/link';
import { AcceptInvite } from '@/components/teams/accept-invite';
import { AuthCard } from '@/components/auth-card';
import { buttonClass } from '@/components/ui/button';
import { Notice } from '@/components/ui/states';
import { SignOutButton } from '@/components/sign-out-button';
import { inviteByToken } from '@/lib/accounts/invites';
import { currentUser } from '@/lib/auth/current-user';
import { roleLabel } from '@/lib/auth/roles';

export const metadata: Metadata = { title: 'Invitation' };

export const dynamic = 'force-dynamic';

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const user = await currentUser();
  const invite = await inviteByToken(token, Date.now(), user?.email).catch(() => null);
  if (!invite) {
    return (
      <AuthCard title="Invitation not valid" subtitle="It was used, revoked or has expired. Ask for a new link.">
        <Link href="/sites" className={`${buttonClass('secondary')} mt-6 w-full`}>
          Go to Eddy
        </Link>
      </AuthCard>
    );
  }
  const back = encodeURIComponent(`/invite/${token}`);
  return (
    <AuthCard
      title={`Join ${invite.teamName}`}
      subtitle={`You are invited as ${roleLabel[invite.role].toLowerCase()}${invite.forEmail ? `, with the address ${invite.forEmail}` : ''}.`}
    >
      {user && invite.refusal ? (
        <div className="mt-6 space-y-3">
          <Notice tone="error">{invite.refusal}</Notice>
          <p className="text-sm text-slate-600">
            Sign out, then open this link again and sign in with the invited address.
          </p>
          <SignOutButton />
        </div>
      ) : user ? (
        <AcceptInvite token={token} email={user.email} />
      ) : (
        <div className="mt-6 space-y-2">
          <Link href={`/signup?callbackUrl=${back}`} className={`${buttonClass('primary')} w-full`}>
            Create an account to join
          </Link>
          <Link href={`/login?callbackUrl=${back}`} className={`${buttonClass('secondary')} w-full`}>
            I have an account
          </Link>
        </div>
      )}
    </AuthCard>
  );
}
