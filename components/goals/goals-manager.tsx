'use client';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, fieldError } from '@/components/api';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Field, Input, Select } from '@/components/ui/field';
import { EmptyState, Notice } from '@/components/ui/states';
import type { GoalView } from '@/lib/goals/manage';
import type { FunnelView } from '@/lib/funnels/manage';
import type { FunnelScope } from '@/lib/funnels/definition';

// Define and delete a site's goals and funnels. A goal is a custom event (optionally with one
// property equal to a value) or a pageview path pattern; a funnel is 2–8 such steps completed in
// order within one visit or within a time limit. Viewers see the lists; admins edit.

type Kind = 'event' | 'page';

interface StepDraft {
  kind: Kind;
  eventName: string;
  propKey: string;
  propValue: string;
  pathPattern: string;
}

const blankStep = (kind: Kind = 'page'): StepDraft => ({
  kind,
  eventName: '',
  propKey: '',
  propValue: '',
  pathPattern: '',
});

function matcherBody(s: StepDraft) {
  if (s.kind === 'page') return { kind: 'page' as const, pathPattern: s.pathPattern };
  return {
    kind: 'event' as const,
    eventName: s.eventName,
    ...(s.propKey ? { propKey: s.propKey, propValue: s.propValue } : {}),
  };
}

function MatcherFields({
  value,
  onChange,
  prefix,
}: {
  value: StepDraft;
  onChange: (s: StepDraft) => void;
  prefix: string;
}) {
  return (
    <div className="grid gap-2 sm:grid-cols-[8rem_1fr]">
      <Select
        aria-label={`${prefix} type`}
        value={value.kind}
        onChange={(e) => onChange({ ...value, kind: e.target.value as Kind })}
      >
        <option value="page">Page visit</option>
        <option value="event">Custom event</option>
      </Select>
      {value.kind === 'page' ? (
        <Input
          aria-label={`${prefix} path pattern`}
          placeholder="/pricing or /blog/** (* = one segment, ** = any)"
          value={value.pathPattern}
          onChange={(e) => onChange({ ...value, pathPattern: e.target.value })}
        />
      ) : (
        <div className="grid gap-2 sm:grid-cols-3">
          <Input
            aria-label={`${prefix} event name`}
            placeholder="Event name, e.g. Signup"
            value={value.eventName}
            onChange={(e) => onChange({ ...value, eventName: e.target.value })}
          />
          <Input
            aria-label={`${prefix} property`}
            placeholder="Property (optional)"
            value={value.propKey}
            onChange={(e) => onChange({ ...value, propKey: e.target.value })}
          />
          <Input
            aria-label={`${prefix} property value`}
            placeholder="equals value"
            value={value.propValue}
            disabled={!value.propKey}
            onChange={(e) => onChange({ ...value, propValue: e.target.value })}
          />
        </div>
      )}
    </div>
  );
}

export function GoalsManager({
  siteId,
  canEdit,
  sessionGapMinutes,
}: {
  siteId: string;
  canEdit: boolean;
  sessionGapMinutes: number;
}) {
  const [goals, setGoals] = useState<GoalView[] | null>(null);
  const [funnels, setFunnels] = useState<FunnelView[] | null>(null);
  const [goalName, setGoalName] = useState('');
  const [goal, setGoal] = useState<StepDraft>(blankStep('event'));
  const [funnelName, setFunnelName] = useState('');
  const [scope, setScope] = useState<FunnelScope>('visit');
  const [windowMinutes, setWindowMinutes] = useState('60');
  const [steps, setSteps] = useState<StepDraft[]>([blankStep(), blankStep()]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const base = `/api/sites/${siteId}`;

  const load = useCallback(async () => {
    const [g, f] = await Promise.all([
      api<{ goals: GoalView[] }>(`${base}/goals`),
      api<{ funnels: FunnelView[] }>(`${base}/funnels`),
    ]);
    setGoals(g.goals);
    setFunnels(f.funnels);
  }, [base]);
  useEffect(() => {
    void load().catch((e: unknown) => setError(fieldError(e).message));
  }, [load]);

  const run = async (fn: () => Promise<unknown>, ok: string) => {
    setError(null);
    setNotice(null);
    try {
      await fn();
      setNotice(ok);
      await load();
      return true;
    } catch (e) {
      setError(fieldError(e).message);
      return false;
    }
  };

  const addGoal = async (e: FormEvent) => {
    e.preventDefault();
    if (
      await run(
        () => api(`${base}/goals`, { method: 'POST', json: { name: goalName, ...matcherBody(goal) } }),
        `Goal “${goalName}” saved; the last 30 days were counted from the archive.`,
      )
    ) {
      setGoalName('');
      setGoal(blankStep('event'));
    }
  };
  const addFunnel = async (e: FormEvent) => {
    e.preventDefault();
    if (
      await run(
        () =>
          api(`${base}/funnels`, {
            method: 'POST',
            json: { name: funnelName, scope, windowMinutes: Number(windowMinutes), steps: steps.map(matcherBody) },
          }),
        `Funnel “${funnelName}” saved: it counts attempts from now on (npm run worker -- replay backfills the archive).`,
      )
    ) {
      setFunnelName('');
      setSteps([blankStep(), blankStep()]);
    }
  };

  return (
    <div className="space-y-5" data-testid="goals-manager">
      {error && <Notice tone="error">{error}</Notice>}
      {notice && <Notice tone="success">{notice}</Notice>}
      <Card title="Goals">
        {goals === null ? null : goals.length === 0 ? (
          <EmptyState title="No goals yet">
            A goal is a custom event (e.g. Signup with plan = pro) or a page visit (e.g. /thank-you). The dashboard
            shows conversions and conversion rate, overall and by source, country and device.
          </EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100" data-testid="goal-list">
            {goals.map((g) => (
              <li key={g.id} className="flex items-center justify-between gap-3 py-2">
                <span className="min-w-0">
                  <span className="block truncate font-medium text-slate-800">{g.name}</span>
                  <span className="block truncate text-xs text-slate-500">{g.description}</span>
                </span>
                {canEdit && (
                  <Button
                    variant="secondary"
                    size="sm"
                    onClick={() =>
                      void run(() => api(`${base}/goals/${g.id}`, { method: 'DELETE' }), `Goal “${g.name}” deleted.`)
                    }
                  >
                    Delete
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
        {canEdit && (
          <form
            onSubmit={(e) => void addGoal(e)}
            className="mt-4 space-y-3 border-t border-slate-100 pt-4"
            aria-label="New goal"
          >
            <Field label="Goal name">
              <Input
                value={goalName}
                onChange={(e) => setGoalName(e.target.value)}
                placeholder="Pro signup"
                required
                maxLength={120}
              />
            </Field>
            <MatcherFields value={goal} onChange={setGoal} prefix="Goal" />
            <Button type="submit">Add goal</Button>
          </form>
        )}
      </Card>

      <Card title="Funnels">
        {funnels === null ? null : funnels.length === 0 ? (
          <EmptyState title="No funnels yet">
            A funnel is 2–8 steps a visitor takes in order, in one visit or within a time limit, e.g. / → /pricing →
            Signup. The dashboard shows each step’s visitors, drop-off and median time.
          </EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100" data-testid="funnel-list">
            {funnels.map((f) => (
              <li key={f.id} className="flex items-center justify-between gap-3 py-2">
                <span className="min-w-0">
                  <span className="block truncate font-medium text-slate-800">{f.name}</span>
                  <span className="block truncate text-xs text-slate-500">
                    {f.steps.map((s) => s.description).join(' → ')} ·{' '}
                    {f.scope === 'visit' ? 'in one visit' : `within ${f.windowMinutes} min`}
                  </span>
                </span>
                {canEdit && (
                  <Button
                    variant="secondary"
                    size="sm"
                    onClick={() =>
                      void run(
                        () => api(`${base}/funnels/${f.id}`, { method: 'DELETE' }),
                        `Funnel “${f.name}” deleted.`,
                      )
                    }
                  >
                    Delete
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
        {canEdit && (
          <form
            onSubmit={(e) => void addFunnel(e)}
            className="mt-4 space-y-3 border-t border-slate-100 pt-4"
            aria-label="New funnel"
          >
            <div className="grid gap-3 sm:grid-cols-[1fr_16rem_8rem]">
              <Field label="Funnel name">
                <Input
                  value={funnelName}
                  onChange={(e) => setFunnelName(e.target.value)}
                  placeholder="Pricing to signup"
                  required
                  maxLength={120}
                />
              </Field>
              <Field
                label="Steps must be completed"
                hint={
                  scope === 'visit'
                    ? `A visit ends after ${sessionGapMinutes} min without activity (the site’s session gap, in Settings).`
                    : 'Counted from the first step, even across visits.'
                }
              >
                <Select value={scope} onChange={(e) => setScope(e.target.value as FunnelScope)}>
                  <option value="visit">in one visit</option>
                  <option value="window">within a time limit</option>
                </Select>
              </Field>
              {scope === 'window' && (
                <Field label="Time limit (minutes)">
                  <Input
                    type="number"
                    min={1}
                    max={10080}
                    value={windowMinutes}
                    onChange={(e) => setWindowMinutes(e.target.value)}
                  />
                </Field>
              )}
            </div>
            {steps.map((s, i) => (
              <div key={i} className="flex items-start gap-2">
                <span className="mt-2 w-5 text-sm text-slate-400">{i + 1}.</span>
                <div className="flex-1">
                  <MatcherFields
                    value={s}
                    onChange={(next) => setSteps(steps.map((x, j) => (j === i ? next : x)))}
                    prefix={`Step ${i + 1}`}
                  />
                </div>
                {steps.length > 2 && (
                  <button
                    type="button"
                    aria-label={`Remove step ${i + 1}`}
                    className="mt-2 text-sm text-slate-400 hover:text-rose-600"
                    onClick={() => setSteps(steps.filter((_, j) => j !== i))}
                  >
                    ✕
                  </button>
                )}
              </div>
            ))}
            <div className="flex gap-2">
              {steps.length < 8 && (
                <Button type="button" variant="secondary" onClick={() => setSteps([...steps, blankStep()])}>
                  Add step
                </Button>
              )}
              <Button type="submit">Add funnel</Button>
            </div>
          </form>
        )}
      </Card>
    </div>
  );
}
