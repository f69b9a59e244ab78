// What a dashboard page shows while its server data loads (the loading.tsx files render it).
// Only segments whose pages never call notFound() or redirect() beyond what their layouts already
// checked have a loading.tsx: Next.js sends the 200 shell at a loading boundary, so a notFound()
// below one answers 200 (tests/browser/next-conventions.test.ts pins the 404s).
export function PageLoading({ label }: { label: string }) {
  return (
    <div role="status" aria-live="polite" data-testid="page-loading" className="space-y-4">
      <span className="sr-only">Loading {label}…</span>
      <div className="h-6 w-40 animate-pulse rounded bg-slate-200" />
      <div className="grid gap-3 sm:grid-cols-4">
        {[0, 1, 2, 3].map((i) => (
          <div key={i} className="h-20 animate-pulse rounded-lg bg-slate-100 ring-1 ring-slate-200" />
        ))}
      </div>
      <div className="h-64 animate-pulse rounded-lg bg-slate-100 ring-1 ring-slate-200" />
    </div>
  );
}
