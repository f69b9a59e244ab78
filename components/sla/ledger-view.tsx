import { Card } from '@/components/ui/card';
import type { LedgerMinute } from '@/lib/pipeline/ledger';

// Per-minute stacked bars (accepted and each drop reason) and the totals table; received equals
// the sum of the stacked parts, which the table states explicitly.

const parts: { key: keyof LedgerMinute; label: string; color: string }[] = [
  { key: 'accepted', label: 'Accepted', color: 'bg-emerald-500' },
  { key: 'droppedBot', label: 'Bot', color: 'bg-slate-400' },
  { key: 'droppedSpam', label: 'Spam referrer', color: 'bg-amber-500' },
  { key: 'droppedHostname', label: 'Hostname not allowed', color: 'bg-orange-500' },
  { key: 'droppedRateLimited', label: 'Rate-limited', color: 'bg-rose-500' },
  { key: 'malformed', label: 'Malformed', color: 'bg-purple-500' },
];

export function LedgerView({ minutes, totals }: { minutes: LedgerMinute[]; totals: Omit<LedgerMinute, 'minute'> }) {
  const max = Math.max(1, ...minutes.map((m) => m.received));
  const dropped =
    totals.droppedBot + totals.droppedSpam + totals.droppedHostname + totals.droppedRateLimited + totals.malformed;
  return (
    <div className="space-y-5">
      <Card title="Received per minute, last 24 hours">
        {minutes.length === 0 ? (
          <p className="text-sm text-slate-500">No events received yet.</p>
        ) : (
          <div className="flex h-40 items-end gap-px" aria-label="Ledger chart">
            {minutes.map((m) => (
              <div
                key={m.minute}
                className="flex h-full min-w-[2px] flex-1 flex-col-reverse"
                title={`${new Date(m.minute).toLocaleTimeString()}: ${m.received} received, ${m.accepted} accepted`}
              >
                {parts.map(
                  (p) =>
                    (m[p.key] as number) > 0 && (
                      <div
                        key={p.key}
                        className={p.color}
                        style={{ height: `${((m[p.key] as number) / max) * 100}%` }}
                      />
                    ),
                )}
              </div>
            ))}
          </div>
        )}
        <ul className="mt-3 flex flex-wrap gap-3 text-xs text-slate-600">
          {parts.map((p) => (
            <li key={p.key} className="flex items-center gap-1">
              <span className={`h-2 w-2 rounded-sm ${p.color}`} />
              {p.label}
            </li>
          ))}
        </ul>
      </Card>
      <Card title="Totals" padded={false}>
        <table className="w-full text-sm" data-testid="ledger-totals">
          <tbody className="divide-y divide-slate-100">
            <tr className="font-semibold">
              <td className="px-4 py-2">Received</td>
              <td className="px-4 py-2 text-right tabular-nums" data-testid="ledger-received">
                {totals.received}
              </td>
            </tr>
            {totals.receivedApi > 0 && (
              <tr className="text-slate-500">
                <td className="px-4 py-2 pl-8">of which through the events API (your server)</td>
                <td className="px-4 py-2 text-right tabular-nums" data-testid="ledger-received-api">
                  {totals.receivedApi}
                </td>
              </tr>
            )}
            {parts.map((p) => (
              <tr key={p.key}>
                <td className="px-4 py-2 pl-8">
                  {p.key === 'accepted' ? 'Accepted' : `Dropped: ${p.label.toLowerCase()}`}
                </td>
                <td className="px-4 py-2 text-right tabular-nums" data-testid={`ledger-${p.key}`}>
                  {totals[p.key as keyof typeof totals]}
                </td>
              </tr>
            ))}
            <tr className="text-slate-500">
              <td className="px-4 py-2">Check: accepted + dropped</td>
              <td className="px-4 py-2 text-right tabular-nums" data-testid="ledger-check">
                {totals.accepted} + {dropped} = {totals.accepted + dropped}{' '}
                {totals.accepted + dropped === totals.received ? '✓' : '≠ received'}
              </td>
            </tr>
            <tr>
              <td className="px-4 py-2">Of the accepted: duplicates removed</td>
              <td className="px-4 py-2 text-right tabular-nums">{totals.duplicates}</td>
            </tr>
            <tr>
              <td className="px-4 py-2">Of the accepted: late (reconciled)</td>
              <td className="px-4 py-2 text-right tabular-nums">{totals.late}</td>
            </tr>
            <tr>
              <td className="px-4 py-2">Of the accepted: dead-lettered</td>
              <td className="px-4 py-2 text-right tabular-nums">{totals.deadLettered}</td>
            </tr>
          </tbody>
        </table>
      </Card>
    </div>
  );
}
