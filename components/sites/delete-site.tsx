'use client';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { api } from '../api';
import { Button } from '../ui/button';
import { Notice } from '../ui/states';

export function DeleteSite({ siteId, domain }: { siteId: string; domain: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const matches = confirm.trim().toLowerCase() === domain.toLowerCase();

  async function onDelete() {
    setBusy(true);
    setError(null);
    try {
      await api(`/api/sites/${siteId}`, { method: 'DELETE', json: { confirm } });
      router.push('/sites');
      router.refresh();
    } catch (e) {
      setBusy(false);
      setError((e as Error).message);
    }
  }

  if (!open) {
    return (
      <Button variant="secondary" className="text-rose-700 ring-rose-200 hover:bg-rose-50" onClick={() => setOpen(true)}>
        Delete this site…
      </Button>
    );
  }
  return (
    <div className="space-y-3 rounded-lg bg-rose-50 p-4 ring-1 ring-rose-200" role="alertdialog" aria-label="Delete site">
      <p className="text-sm text-rose-900">
        This deletes the site, its settings, share links and <strong>all of its analytics data</strong>. It cannot be undone. Type <strong className="font-mono">{domain}</strong> to confirm.
      </p>
      <input value={confirm} onChange={(e) => setConfirm(e.target.value)} aria-label="Type the domain to confirm" className="block w-full rounded-lg border border-rose-300 bg-white px-3 py-2 font-mono text-sm" autoFocus />
      {error && <Notice tone="error">{error}</Notice>}
      <div className="flex gap-2">
        <Button variant="danger" disabled={!matches || busy} onClick={() => void onDelete()}>
          {busy ? 'Deleting…' : 'Delete site and data'}
        </Button>
        <Button variant="ghost" onClick={() => setOpen(false)}>
          Cancel
        </Button>
      </div>
    </div>
  );
}
