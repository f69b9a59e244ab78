import type { Metadata } from 'next';
import { ChangePasswordForm } from '@/components/change-password-form';
import { DeleteAccountForm } from '@/components/delete-account-form';
import { accountDeletionPlan } from '@/lib/accounts/delete-account';
import { SignOutButton } from '@/components/sign-out-button';
import { Card } from '@/components/ui/card';
import { pageUser } from '@/lib/auth/page-access';

export const metadata: Metadata = { title: 'Account' };

export default async function AccountPage() {
  const user = await pageUser('/account');
  const plan = await accountDeletionPlan(user.id);
  return (
    <section className="max-w-2xl space-y-5">
      <h1 className="text-2xl font-semibold tracking-tight">Account</h1>
      <Card title="Profile">
        <dl className="grid grid-cols-[6rem_1fr] gap-y-1 text-sm">
          <dt className="text-slate-500">Email</dt>
          <dd className="truncate">{user.email}</dd>
          <dt className="text-slate-500">Name</dt>
          <dd>{user.name ?? '—'}</dd>
        </dl>
      </Card>
      <Card title={user.hasPassword ? 'Change password' : 'Set a password'}>
        <ChangePasswordForm email={user.email} hasPassword={user.hasPassword} />
      </Card>
      <Card title="Sign out">
        <p className="mb-3 text-sm text-slate-500">
          Signs this browser out. Changing your password signs out every device.
        </p>
        <SignOutButton className="ring-1 ring-slate-300" />
      </Card>
      <Card title="Delete account">
        <DeleteAccountForm
          email={user.email}
          hasPassword={user.hasPassword}
          deletes={plan.deletes}
          blockers={plan.blockers}
        />
      </Card>
    </section>
  );
}
