export function Logo({ className = '' }: { className?: string }) {
  return (
    <span className={`inline-flex items-center gap-1.5 font-semibold tracking-tight text-slate-900 ${className}`}>
      <svg viewBox="0 0 24 24" className="h-6 w-6" aria-hidden>
        <circle cx="12" cy="12" r="11" className="fill-indigo-600" />
        <path
          d="M6 13.5c2-4 4.5-4 6 0s4 4 6 0"
          className="fill-none stroke-white"
          strokeWidth="2.2"
          strokeLinecap="round"
        />
      </svg>
      Eddy
    </span>
  );
}
