import type { ReactNode } from 'react';

export function Spinner({ className = 'h-4 w-4' }: { className?: string }) {
  return (
    <span
      aria-hidden
      className={`inline-block animate-spin rounded-full border-2 border-current border-r-transparent ${className}`}
    />
  );
}

export function Skeleton({ className = '' }: { className?: string }) {
  return <div aria-hidden className={`animate-pulse rounded-md bg-slate-200/70 ${className}`} />;
}

export function EmptyState({
  icon,
  title,
  children,
  action,
}: {
  icon?: ReactNode;
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className="flex flex-col items-center justify-center px-6 py-10 text-center">
      {icon && <div className="mb-3 text-3xl text-slate-300">{icon}</div>}
      <p className="text-sm font-semibold text-slate-700">{title}</p>
      {children && <div className="mt-1 max-w-sm text-sm text-slate-500">{children}</div>}
      {action && <div className="mt-4">{action}</div>}
    </div>
  );
}

export function ErrorState({
  title = 'Something went wrong',
  message,
  onRetry,
}: {
  title?: string;
  message?: string;
  onRetry?: () => void;
}) {
  return (
    <div role="alert" className="flex flex-col items-center justify-center px-6 py-8 text-center">
      <p className="text-sm font-semibold text-rose-700">{title}</p>
      {message && <p className="mt-1 max-w-sm text-sm text-slate-500">{message}</p>}
      {onRetry && (
        <button
          type="button"
          onClick={onRetry}
          className="mt-3 rounded-md bg-rose-50 px-3 py-1.5 text-xs font-medium text-rose-700 ring-1 ring-rose-200 hover:bg-rose-100"
        >
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice({
  tone = 'info',
  children,
}: {
  tone?: 'info' | 'success' | 'error' | 'warning';
  children: ReactNode;
}) {
  const t = {
    info: 'bg-indigo-50 text-indigo-800 ring-indigo-200',
    success: 'bg-emerald-50 text-emerald-800 ring-emerald-200',
    error: 'bg-rose-50 text-rose-800 ring-rose-200',
    warning: 'bg-amber-50 text-amber-900 ring-amber-200',
  }[tone];
  return (
    <div role={tone === 'error' ? 'alert' : 'status'} className={`rounded-lg px-3 py-2 text-sm ring-1 ${t}`}>
      {children}
    </div>
  );
}

/**
 * A list loaded with React Query, in its four states: loading (a skeleton), failed (with retry),
 * empty, and its items. Settings lists (API keys, share links, invitations) all look like this.
 */
export function QueryList<D, T>({
  query,
  items,
  empty,
  skeletonClassName = 'h-12',
  className = 'divide-y divide-slate-100 rounded-lg ring-1 ring-slate-200',
  testId,
  children,
}: {
  query: { isPending: boolean; isError: boolean; error: Error | null; data: D | undefined; refetch: () => unknown };
  /** The items in the loaded data. */
  items: (data: D) => T[];
  empty: ReactNode;
  skeletonClassName?: string;
  className?: string;
  testId?: string;
  children: (item: T) => ReactNode;
}) {
  if (query.isPending) return <Skeleton className={skeletonClassName} />;
  if (query.isError || query.data === undefined)
    return <ErrorState message={query.error?.message} onRetry={() => void query.refetch()} />;
  const list = items(query.data);
  if (list.length === 0) return <>{empty}</>;
  return (
    <ul className={className} data-testid={testId}>
      {list.map(children)}
    </ul>
  );
}
