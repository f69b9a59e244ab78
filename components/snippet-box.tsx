'use client';
import { useState } from 'react';

export function SnippetBox({ snippet }: { snippet: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(snippet);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
    setTimeout(() => setCopied(null), 2500);
  };
  return (
    <div className="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
      <div className="flex items-center justify-between gap-3">
        <h2 className="text-sm font-semibold text-slate-800">Paste this into every page’s &lt;head&gt;</h2>
        <button
          type="button"
          onClick={() => void copy()}
          className="shrink-0 rounded-md bg-indigo-600 px-3 py-1.5 text-xs font-medium text-white hover:bg-indigo-500"
          data-testid="copy-snippet"
        >
          {copied === 'yes' ? 'Copied ✓' : copied === 'failed' ? 'Select and copy' : 'Copy'}
        </button>
      </div>
      <pre
        data-testid="snippet"
        className="mt-3 overflow-x-auto whitespace-pre-wrap break-all rounded-lg bg-slate-900 p-3 font-mono text-xs leading-relaxed text-slate-100"
      >
        {snippet}
      </pre>
    </div>
  );
}
