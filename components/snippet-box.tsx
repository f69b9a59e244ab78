'use client';
import { useState } from 'react';

export function SnippetBox({ snippet }: { snippet: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="rounded-xl bg-white p-4 ring-1 ring-slate-200">
      <div className="flex items-center justify-between">
        <h2 className="text-sm font-medium text-slate-700">Paste this into every page’s &lt;head&gt;</h2>
        <button
          type="button"
          onClick={() => void navigator.clipboard?.writeText(snippet).then(() => setCopied(true))}
          className="rounded-md bg-slate-100 px-2 py-1 text-xs font-medium hover:bg-slate-200"
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre data-testid="snippet" className="mt-2 overflow-x-auto rounded-lg bg-slate-900 p-3 text-xs text-slate-100">
        {snippet}
      </pre>
    </div>
  );
}
