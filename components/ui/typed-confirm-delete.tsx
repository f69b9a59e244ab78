'use client';
import { useRouter } from 'next/navigation';
import { useState, type ReactNode } from 'react';
import { api } from '../api';
import { Button } from './button';
import { Notice } from './states';

// Deleting something that takes data with it: a button that opens a panel where the owner types
// the thing's name before the delete button works (GitHub's pattern), then goes to `afterwards`.
// The server checks the same confirmation; this only keeps a slip of the mouse from deleting.

export interface TypedConfirmDeleteProps {
  /** "site", "team": used in the button, the dialog's label and the input's label. */
  noun: string;
  /** What must be typed, shown in the explanation. */
  phrase: string;
  /** Whether what was typed confirms (e.g. case-insensitive for domains). */
  confirms: (typed: string) => boolean;
  /** The DELETE endpoint; the body carries `{ confirm }`. */
  endpoint: string;
  afterwards: string;
  inputLabel: string;
  /** What is deleted; the "cannot be undone" sentence and the phrase follow it. */
  children: ReactNode;
}

export function TypedConfirmDelete({
  noun,
  phrase,
  confirms,
  endpoint,
  afterwards,
  inputLabel,
  children,
}: TypedConfirmDeleteProps) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onDelete() {
    setBusy(true);
    setError(null);
    try {
      await api(endpoint, { method: 'DELETE', json: { confirm } });
      router.push(afterwards);
      router.refresh();
    } catch (e) {
      setBusy(false);
      setError((e as Error).message);
    }
  }

  if (!open) {
    return (
      <Button
        variant="secondary"
        className="text-rose-700 ring-rose-200 hover:bg-rose-50"
        onClick={() => setOpen(true)}
      >
        Delete this {noun}…
      </Button>
    );
  }
  return (
    <div
      className="space-y-3 rounded-lg bg-rose-50 p-4 ring-1 ring-rose-200"
      role="alertdialog"
      aria-label={`Delete ${noun}`}
    >
      <p className="text-sm text-rose-900">
        {children} It cannot be undone. Type <strong className="font-mono">{phrase}</strong> to confirm.
      </p>
      <input
        value={confirm}
        onChange={(e) => setConfirm(e.target.value)}
        aria-label={inputLabel}
        className="block w-full rounded-lg border border-rose-300 bg-white px-3 py-2 font-mono text-sm"
        autoFocus
      />
      {error && <Notice tone="error">{error}</Notice>}
      <div className="flex gap-2">
        <Button variant="danger" disabled={!confirms(confirm) || busy} onClick={() => void onDelete()}>
          {busy ? 'Deleting…' : `Delete ${noun} and data`}
        </Button>
        <Button variant="ghost" onClick={() => setOpen(false)}>
          Cancel
        </Button>
      </div>
    </div>
  );
}
