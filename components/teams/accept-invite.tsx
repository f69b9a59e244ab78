'use client';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { api } from '../api';
import { Button } from '../ui/button';
import { Notice } from '../ui/states';

export function AcceptInvite({ token, email }: { token: string; email: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function accept() {
    setBusy(true);
    try {
      const { team } = await api<{ team: { teamId: string } }>(`/api/invites/${token}`, { method: 'POST' });
      router.push(`/teams/${team.teamId}`);
    } catch (e) {
      setBusy(false);
      setError((e as Error).message);
    }
  }
  return (
    <div className="mt-6 space-y-3">
      <p className="text-sm text-slate-600">
        Signed in as <strong>{email}</strong>.
      </p>
      {error && <Notice tone="error">{error}</Notice>}
      <Button className="w-full" onClick={() => void accept()} disabled={busy}>
        {busy ? 'Joining…' : 'Join team'}
      </Button>
    </div>
  );
}
