'use client';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api, fieldError } from '../api';
import { buttonClass } from '../ui/button';
import { Input } from '../ui/field';
import { Notice } from '../ui/states';

export function CreateTeam() {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { team } = await api<{ team: { id: string } }>('/api/teams', {
        method: 'POST',
        json: { name: String(new FormData(e.currentTarget).get('name')) },
      });
      router.push(`/teams/${team.id}`);
    } catch (err) {
      setBusy(false);
      setError(fieldError(err).message);
    }
  }
  return (
    <form onSubmit={onSubmit} className="flex flex-wrap gap-2">
      <Input
        name="name"
        required
        maxLength={100}
        placeholder="Team name"
        aria-label="Team name"
        className="mt-0 max-w-xs"
      />
      <button type="submit" disabled={busy} className={buttonClass('secondary')}>
        Create team
      </button>
      {error && <Notice tone="error">{error}</Notice>}
    </form>
  );
}
