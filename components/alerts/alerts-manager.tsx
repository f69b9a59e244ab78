'use client';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, fieldError } from '@/components/api';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Field, Input, Select } from '@/components/ui/field';
import { EmptyState, Notice } from '@/components/ui/states';
import { describeCondition, type Channel, type Condition, type RuleType } from '@/lib/alerts/rules';
import type { HistoryItem, RuleView } from '@/lib/alerts/manage';

// Create, edit, mute, test-fire and delete a site's alert rules, and read their history with the
// delivery log. The state badges and history refresh every few seconds.

interface Draft {
  name: string;
  type: RuleType;
  op: 'above' | 'below';
  threshold: string;
  direction: 'spike' | 'drop';
  windowMinutes: string;
  baseline: 'trailing' | 'week';
  trailingWindows: string;
  factor: string;
  minPageviews: string;
  minutes: string;
  event: string;
  goalId: string;
  minConversions: string;
  forSeconds: string;
  cooldownSeconds: string;
  webhookUrl: string;
  slackUrl: string;
  emailTo: string;
  inapp: boolean;
}

const blank: Draft = {
  name: '',
  type: 'traffic',
  op: 'above',
  threshold: '100',
  direction: 'spike',
  windowMinutes: '5',
  baseline: 'trailing',
  trailingWindows: '12',
  factor: '3',
  minPageviews: '10',
  minutes: '30',
  event: '',
  goalId: '',
  minConversions: '5',
  forSeconds: '0',
  cooldownSeconds: '600',
  webhookUrl: '',
  slackUrl: '',
  emailTo: '',
  inapp: true,
};

function toDraft(r: RuleView): Draft {
  const c = r.condition as Condition & Record<string, unknown>;
  const s = (v: unknown, d: string) => (v === undefined ? d : String(v));
  const webhook = r.channels.find((x) => x.kind === 'webhook');
  const slack = r.channels.find((x) => x.kind === 'slack');
  const email = r.channels.find((x) => x.kind === 'email');
  return {
    ...blank,
    name: r.name,
    type: c.type,
    op: (c.op as Draft['op']) ?? 'above',
    threshold: s(c.threshold, blank.threshold),
    direction: (c.direction as Draft['direction']) ?? 'spike',
    windowMinutes: s(c.windowMinutes, blank.windowMinutes),
    baseline: (c.baseline as Draft['baseline']) ?? 'trailing',
    trailingWindows: s(c.trailingWindows, blank.trailingWindows),
    factor: s(c.factor, blank.factor),
    minPageviews: s(c.minPageviews, blank.minPageviews),
    minutes: s(c.minutes, blank.minutes),
    event: s(c.event, ''),
    goalId: s(c.goalId, ''),
    minConversions: s(c.minConversions, blank.minConversions),
    forSeconds: String(r.forSeconds),
    cooldownSeconds: String(r.cooldownSeconds),
    webhookUrl: webhook?.kind === 'webhook' ? webhook.url : '',
    slackUrl: slack?.kind === 'slack' ? slack.url : '',
    emailTo: email?.kind === 'email' ? email.to.join(', ') : '',
    inapp: r.channels.some((x) => x.kind === 'inapp'),
  };
}

function toBody(d: Draft) {
  const condition =
    d.type === 'visitors'
      ? { type: d.type, op: d.op, threshold: d.threshold }
      : d.type === 'traffic'
        ? {
            type: d.type,
            direction: d.direction,
            windowMinutes: d.windowMinutes,
            baseline: d.baseline,
            trailingWindows: d.trailingWindows,
            factor: d.factor,
            minPageviews: d.minPageviews,
          }
        : d.type === 'tracking_stopped'
          ? { type: d.type, minutes: d.minutes }
          : d.type === 'sla'
            ? { type: d.type }
            : d.type === 'goal'
              ? {
                  type: d.type,
                  goalId: d.goalId,
                  direction: d.direction,
                  windowMinutes: d.windowMinutes,
                  baseline: d.baseline,
                  trailingWindows: d.trailingWindows,
                  factor: d.factor,
                  minConversions: d.minConversions,
                }
              : { type: d.type, event: d.event, windowMinutes: d.windowMinutes, op: d.op, threshold: d.threshold };
  const channels: Channel[] = [];
  if (d.webhookUrl.trim()) channels.push({ kind: 'webhook', url: d.webhookUrl.trim() });
  if (d.slackUrl.trim()) channels.push({ kind: 'slack', url: d.slackUrl.trim() });
  if (d.emailTo.trim())
    channels.push({
      kind: 'email',
      to: d.emailTo
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    });
  if (d.inapp) channels.push({ kind: 'inapp' });
  return { name: d.name, condition, forSeconds: d.forSeconds, cooldownSeconds: d.cooldownSeconds, channels };
}

const badge: Record<string, string> = {
  ok: 'bg-emerald-50 text-emerald-700 ring-emerald-200',
  pending: 'bg-amber-50 text-amber-700 ring-amber-200',
  firing: 'bg-rose-50 text-rose-700 ring-rose-200',
};

function RuleForm({ siteId, editing, onDone }: { siteId: string; editing: RuleView | null; onDone: () => void }) {
  const [d, setD] = useState<Draft>(editing ? toDraft(editing) : blank);
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const set =
    <K extends keyof Draft>(k: K) =>
    (e: { target: { value: string } }) =>
      setD((x) => ({ ...x, [k]: e.target.value }));
  const err = (f: string) => (error && error.field?.startsWith(f) ? error.message : null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (editing) await api(`/api/sites/${siteId}/alerts/${editing.id}`, { method: 'PATCH', json: toBody(d) });
      else await api(`/api/sites/${siteId}/alerts`, { method: 'POST', json: toBody(d) });
      setD(blank);
      onDone();
    } catch (x) {
      setError(fieldError(x));
    } finally {
      setBusy(false);
    }
  };
  const windowed = d.type === 'traffic' || d.type === 'custom_event' || d.type === 'goal';
  const [goals, setGoals] = useState<{ id: string; name: string }[]>([]);
  useEffect(() => {
    void api<{ goals: { id: string; name: string }[] }>(`/api/sites/${siteId}/goals`)
      .then((r) => {
        setGoals(r.goals);
        setD((x) => (x.goalId || !r.goals[0] ? x : { ...x, goalId: r.goals[0].id }));
      })
      .catch(() => undefined);
  }, [siteId]);
  return (
    <form onSubmit={submit} className="space-y-3" aria-label={editing ? 'Edit alert rule' : 'New alert rule'}>
      <Field label="Rule name" error={err('name')}>
        <Input value={d.name} onChange={set('name')} required maxLength={120} placeholder="Traffic spike" />
      </Field>
      <Field label="Type">
        <Select value={d.type} onChange={set('type')}>
          <option value="traffic">Traffic spike or drop</option>
          <option value="visitors">Current visitors</option>
          <option value="tracking_stopped">Tracking stopped</option>
          <option value="sla">Freshness SLA breached</option>
          <option value="custom_event">Custom event count</option>
          <option value="goal">Goal conversions spike or drop</option>
        </Select>
      </Field>
      <div className="grid gap-3 sm:grid-cols-2">
        {d.type === 'goal' && (
          <>
            <Field label="Goal" error={err('condition.goalId')}>
              <Select value={d.goalId} onChange={set('goalId')}>
                {goals.length === 0 && <option value="">No goals yet (define one on the Goals page)</option>}
                {goals.map((g) => (
                  <option key={g.id} value={g.id}>
                    {g.name}
                  </option>
                ))}
              </Select>
            </Field>
            <Field label="Minimum conversions" error={err('condition.minConversions')}>
              <Input type="number" min="1" value={d.minConversions} onChange={set('minConversions')} />
            </Field>
          </>
        )}
        {(d.type === 'traffic' || d.type === 'goal') && (
          <>
            <Field label="Direction">
              <Select value={d.direction} onChange={set('direction')}>
                <option value="spike">Spike</option>
                <option value="drop">Drop</option>
              </Select>
            </Field>
            <Field label="Baseline">
              <Select value={d.baseline} onChange={set('baseline')}>
                <option value="trailing">Trailing average</option>
                <option value="week">Same window a week earlier</option>
              </Select>
            </Field>
            <Field label="Factor" error={err('condition.factor')}>
              <Input type="number" step="0.1" min="1.1" value={d.factor} onChange={set('factor')} />
            </Field>
            {d.type === 'traffic' && (
              <Field label="Minimum pageviews" error={err('condition.minPageviews')}>
                <Input type="number" min="1" value={d.minPageviews} onChange={set('minPageviews')} />
              </Field>
            )}
            {d.baseline === 'trailing' && (
              <Field label="Trailing windows">
                <Input type="number" min="1" max="48" value={d.trailingWindows} onChange={set('trailingWindows')} />
              </Field>
            )}
          </>
        )}
        {d.type === 'custom_event' && (
          <Field label="Event name" error={err('condition.event')}>
            <Input value={d.event} onChange={set('event')} placeholder="signup" />
          </Field>
        )}
        {windowed && (
          <Field label="Window (minutes)" error={err('condition.windowMinutes')}>
            <Input type="number" min="1" value={d.windowMinutes} onChange={set('windowMinutes')} />
          </Field>
        )}
        {(d.type === 'visitors' || d.type === 'custom_event') && (
          <>
            <Field label="When the count is">
              <Select value={d.op} onChange={set('op')}>
                <option value="above">Above</option>
                <option value="below">Below</option>
              </Select>
            </Field>
            <Field label="Threshold" error={err('condition.threshold')}>
              <Input type="number" min="0" value={d.threshold} onChange={set('threshold')} />
            </Field>
          </>
        )}
        {d.type === 'tracking_stopped' && (
          <Field label="No events for (minutes)">
            <Input type="number" min="1" value={d.minutes} onChange={set('minutes')} />
          </Field>
        )}
        <Field label="For (seconds)" hint="The condition must hold this long before it fires.">
          <Input type="number" min="0" value={d.forSeconds} onChange={set('forSeconds')} />
        </Field>
        <Field label="Cooldown (seconds)" hint="At most one notification per cooldown.">
          <Input type="number" min="0" value={d.cooldownSeconds} onChange={set('cooldownSeconds')} />
        </Field>
      </div>
      <fieldset className="space-y-3 rounded-lg border border-slate-200 p-3">
        <legend className="px-1 text-xs font-semibold uppercase tracking-wide text-slate-500">Notify</legend>
        <Field label="Webhook URL" hint="JSON, signed with HMAC-SHA256 (X-Eddy-Signature)." error={err('channels')}>
          <Input
            type="url"
            value={d.webhookUrl}
            onChange={set('webhookUrl')}
            placeholder="https://example.com/hooks/eddy"
          />
        </Field>
        <Field label="Slack webhook URL">
          <Input
            type="url"
            value={d.slackUrl}
            onChange={set('slackUrl')}
            placeholder="https://hooks.slack.com/services/…"
          />
        </Field>
        <Field label="Email to" hint="Comma-separated.">
          <Input value={d.emailTo} onChange={set('emailTo')} placeholder="ops@example.com" />
        </Field>
        <label className="flex items-center gap-2 text-sm text-slate-700">
          <input type="checkbox" checked={d.inapp} onChange={(e) => setD((x) => ({ ...x, inapp: e.target.checked }))} />{' '}
          In-app notification
        </label>
      </fieldset>
      {error && !error.field && <Notice tone="error">{error.message}</Notice>}
      {error?.field && <Notice tone="error">{`${error.field}: ${error.message}`}</Notice>}
      <div className="flex gap-2">
        <Button type="submit" disabled={busy}>
          {editing ? 'Save rule' : 'Create rule'}
        </Button>
        {editing && (
          <Button variant="ghost" onClick={onDone}>
            Cancel
          </Button>
        )}
      </div>
    </form>
  );
}

export function AlertsManager({ siteId, canEdit }: { siteId: string; canEdit: boolean }) {
  const [rules, setRules] = useState<RuleView[] | null>(null);
  const [history, setHistory] = useState<HistoryItem[]>([]);
  const [editing, setEditing] = useState<RuleView | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const load = useCallback(async () => {
    const [r, h] = await Promise.all([
      api<{ rules: RuleView[] }>(`/api/sites/${siteId}/alerts`),
      api<{ history: HistoryItem[] }>(`/api/sites/${siteId}/alerts/history`),
    ]);
    setRules(r.rules);
    setHistory(h.history);
  }, [siteId]);
  useEffect(() => {
    void load().catch(() => undefined);
    const t = setInterval(() => void load().catch(() => undefined), 3000);
    return () => clearInterval(t);
  }, [load]);
  const act = async (fn: () => Promise<unknown>, done: string) => {
    try {
      await fn();
      setMessage(done);
    } catch (e) {
      setMessage((e as Error).message);
    }
    await load();
  };
  return (
    <div className="grid gap-5 lg:grid-cols-5">
      <div className="space-y-5 lg:col-span-3">
        <Card title="Alert rules">
          {rules === null ? (
            <p className="text-sm text-slate-500">Loading…</p>
          ) : rules.length === 0 ? (
            <EmptyState title="No alert rules yet">Rules are evaluated on the live stream every 2 seconds.</EmptyState>
          ) : (
            <ul className="divide-y divide-slate-100" data-testid="alert-rules">
              {rules.map((r) => (
                <li key={r.id} className="py-3" data-testid="alert-rule" data-status={r.status}>
                  <div className="flex flex-wrap items-center justify-between gap-2">
                    <div className="min-w-0">
                      <p className="font-medium text-slate-800">
                        {r.name}{' '}
                        <span
                          className={`ml-1 rounded-full px-2 py-0.5 text-xs ring-1 ${badge[r.status]}`}
                          data-testid="alert-status"
                        >
                          {r.status}
                        </span>
                        {r.muted && (
                          <span className="ml-1 rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-600">
                            muted
                          </span>
                        )}
                      </p>
                      <p className="text-xs text-slate-500">
                        {describeCondition(r.condition)}
                        {r.forSeconds ? ` for ${r.forSeconds} s` : ''} · cooldown {r.cooldownSeconds} s ·{' '}
                        {r.channels.map((c) => c.kind).join(', ') || 'no channels'}
                        {r.lastValue !== null ? ` · now ${Math.round(r.lastValue * 10) / 10}` : ''}
                      </p>
                      {r.channels.map((c) =>
                        c.kind === 'webhook' && c.secret ? (
                          <p key={c.url} className="mt-1 truncate font-mono text-xs text-slate-500">
                            Signing secret: <span data-testid="webhook-secret">{c.secret}</span>
                          </p>
                        ) : null,
                      )}
                    </div>
                    {canEdit && (
                      <div className="flex flex-wrap gap-1">
                        <Button size="sm" variant="secondary" onClick={() => setEditing(r)}>
                          Edit
                        </Button>
                        <Button
                          size="sm"
                          variant="secondary"
                          onClick={() =>
                            void act(
                              () =>
                                api(`/api/sites/${siteId}/alerts/${r.id}`, {
                                  method: 'PATCH',
                                  json: { muted: !r.muted },
                                }),
                              r.muted ? 'Unmuted' : 'Muted',
                            )
                          }
                        >
                          {r.muted ? 'Unmute' : 'Mute'}
                        </Button>
                        <Button
                          size="sm"
                          variant="secondary"
                          onClick={() =>
                            void act(
                              () => api(`/api/sites/${siteId}/alerts/${r.id}/test`, { method: 'POST' }),
                              'Test notification sent',
                            )
                          }
                        >
                          Test
                        </Button>
                        <Button
                          size="sm"
                          variant="danger"
                          onClick={() => {
                            if (window.confirm(`Delete "${r.name}" and its history?`))
                              void act(
                                () => api(`/api/sites/${siteId}/alerts/${r.id}`, { method: 'DELETE' }),
                                'Deleted',
                              );
                          }}
                        >
                          Delete
                        </Button>
                      </div>
                    )}
                  </div>
                </li>
              ))}
            </ul>
          )}
          {message && (
            <p className="mt-2 text-xs text-slate-500" role="status">
              {message}
            </p>
          )}
        </Card>
        <Card title="History">
          {history.length === 0 ? (
            <p className="text-sm text-slate-500">Nothing has fired yet.</p>
          ) : (
            <ol className="space-y-3" data-testid="alert-history">
              {history.map((h) => (
                <li key={h.id} className="text-sm">
                  <p>
                    <span
                      className={`mr-2 rounded px-1.5 py-0.5 text-xs font-medium ${h.kind === 'firing' ? 'bg-rose-100 text-rose-700' : h.kind === 'resolved' ? 'bg-emerald-100 text-emerald-700' : 'bg-slate-100 text-slate-700'}`}
                    >
                      {h.kind}
                    </span>
                    <span className="text-slate-800">{h.message}</span>
                  </p>
                  <p className="text-xs text-slate-500">
                    {new Date(h.at).toLocaleString()}
                    {h.suppressed ? ` · not sent (${h.suppressed})` : ''}
                    {h.deliveries.map((d, i) => (
                      <span
                        key={i}
                        className={
                          d.status === 'ok'
                            ? 'text-emerald-700'
                            : d.status === 'failed'
                              ? 'text-rose-700'
                              : 'text-amber-700'
                        }
                      >
                        {' · '}
                        {d.channel} {d.status}
                        {d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}
                        {d.httpStatus ? ` (HTTP ${d.httpStatus})` : d.error ? ` (${d.error})` : ''}
                      </span>
                    ))}
                  </p>
                </li>
              ))}
            </ol>
          )}
        </Card>
      </div>
      {canEdit && (
        <Card title={editing ? `Edit “${editing.name}”` : 'New alert rule'} className="lg:col-span-2 self-start">
          <RuleForm
            key={editing?.id ?? 'new'}
            siteId={siteId}
            editing={editing}
            onDone={() => {
              setEditing(null);
              void load();
            }}
          />
        </Card>
      )}
    </div>
  );
}
