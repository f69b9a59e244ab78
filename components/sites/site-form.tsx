'use client';
import { useRouter } from 'next/navigation';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { RETENTION_CHOICES, DEFAULT_RETENTION_DAYS } from '@/lib/events/retention';
import {
  SALT_ROTATIONS,
  SESSION_GAP_MINUTES,
  defaultAllowedHostnames,
  normalizeHostname,
  type ContentGroupInput,
} from '@/lib/sites/settings';
import { api, fieldError } from '../api';
import { Button, buttonClass } from '../ui/button';
import { Field, Input, Select } from '../ui/field';
import { Notice } from '../ui/states';

// One form for adding a site and for its settings page. Values mirror lib/sites/settings.ts;
// the server validates again (and ignores anything else in the body).

export interface SiteFormValues {
  name: string;
  domain: string;
  allowedHostnames: string[];
  timezone: string;
  sessionGapMinutes: number;
  saltRotation: (typeof SALT_ROTATIONS)[number];
  respectDnt: boolean;
  retentionDays: number | null;
  contentGroups: ContentGroupInput[];
}

const retentionLabel = (days: number | null) =>
  days === null ? 'Forever' : days === DEFAULT_RETENTION_DAYS ? `${days} days (25 months, default)` : `${days} days`;

const rotationLabel = {
  day: 'Daily (most private)',
  week: 'Weekly',
  month: 'Monthly (counts returning visitors longest)',
} as const;

export function SiteForm({
  mode,
  siteId,
  teams,
  initial,
}: {
  mode: 'create' | 'edit';
  siteId?: string;
  teams?: { id: string; name: string }[];
  initial?: SiteFormValues;
}) {
  const router = useRouter();
  const [v, setV] = useState<SiteFormValues>(
    initial ?? {
      name: '',
      domain: '',
      allowedHostnames: [],
      timezone: 'UTC',
      sessionGapMinutes: SESSION_GAP_MINUTES.default,
      saltRotation: 'day',
      respectDnt: true,
      retentionDays: DEFAULT_RETENTION_DAYS,
      contentGroups: [],
    },
  );
  const [teamId, setTeamId] = useState(teams?.[0]?.id ?? '');
  const [hostsText, setHostsText] = useState((initial?.allowedHostnames ?? []).join('\n'));
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const zones = useMemo(
    () => (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC']),
    [],
  );

  useEffect(() => {
    if (mode === 'create') setV((x) => ({ ...x, timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' }));
  }, [mode]);

  const set = <K extends keyof SiteFormValues>(k: K, value: SiteFormValues[K]) => {
    setSaved(false);
    setV((x) => ({ ...x, [k]: value }));
  };
  const domain = normalizeHostname(v.domain);
  const hostPlaceholder = domain ? defaultAllowedHostnames(domain).join('\n') : 'example.com\nwww.example.com';

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      ...v,
      allowedHostnames: hostsText
        .split(/[\s,]+/)
        .map((h) => h.trim())
        .filter(Boolean),
      contentGroups: v.contentGroups.filter((g) => g.name.trim() || g.pattern.trim()),
    };
    try {
      if (mode === 'create') {
        const { site } = await api<{ site: { id: string } }>('/api/sites', {
          method: 'POST',
          json: { ...body, teamId },
        });
        router.push(`/sites/${site.id}/snippet`);
      } else {
        const { site } = await api<{ site: SiteFormValues }>(`/api/sites/${siteId}`, { method: 'PATCH', json: body });
        setHostsText(site.allowedHostnames.join('\n'));
        setSaved(true);
        setBusy(false);
        router.refresh();
      }
    } catch (err) {
      setBusy(false);
      setError(fieldError(err));
    }
  }

  const at = (f: string) => (error?.field === f || error?.field?.startsWith(`${f}.`) ? error.message : null);
  return (
    <form onSubmit={onSubmit} className="space-y-5">
      {mode === 'create' && teams && teams.length > 1 && (
        <Field label="Team" hint="Everyone in the team can see this site's dashboard.">
          <Select value={teamId} onChange={(e) => setTeamId(e.target.value)}>
            {teams.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </Select>
        </Field>
      )}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Site name" error={at('name')}>
          <Input
            value={v.name}
            onChange={(e) => set('name', e.target.value)}
            required
            maxLength={100}
            placeholder="My shop"
          />
        </Field>
        <Field label="Domain" hint="Where the site lives, e.g. shop.example.com" error={at('domain')}>
          <Input
            value={v.domain}
            onChange={(e) => set('domain', e.target.value)}
            required
            maxLength={300}
            placeholder="example.com"
            inputMode="url"
            autoCapitalize="none"
          />
        </Field>
      </div>
      <Field label="Time zone" hint="Days in reports start at midnight here." error={at('timezone')}>
        <Select value={v.timezone} onChange={(e) => set('timezone', e.target.value)}>
          {!zones.includes(v.timezone) && <option value={v.timezone}>{v.timezone}</option>}
          {zones.map((z) => (
            <option key={z} value={z}>
              {z.replace(/_/g, ' ')}
            </option>
          ))}
        </Select>
      </Field>

      <details className="group rounded-lg ring-1 ring-slate-200" open={mode === 'edit'}>
        <summary className="cursor-pointer select-none px-3 py-2 text-sm font-medium text-slate-700">
          Tracking settings
        </summary>
        <div className="space-y-4 border-t border-slate-100 p-3">
          <Field
            label="Allowed hostnames"
            hint="One per line; *.example.com admits every subdomain. Events from other hostnames are dropped (and counted). Empty: the domain and its www. form."
            error={at('allowedHostnames')}
          >
            <textarea
              value={hostsText}
              onChange={(e) => {
                setSaved(false);
                setHostsText(e.target.value);
              }}
              rows={3}
              placeholder={hostPlaceholder}
              className="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 font-mono text-xs focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/20"
            />
          </Field>
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Session gap (minutes)" hint="Inactivity that ends a visit." error={at('sessionGapMinutes')}>
              <Input
                type="number"
                min={SESSION_GAP_MINUTES.min}
                max={SESSION_GAP_MINUTES.max}
                value={v.sessionGapMinutes}
                onChange={(e) => set('sessionGapMinutes', Number(e.target.value))}
              />
            </Field>
            <Field
              label="Visitor id rotation"
              hint="How long a visitor is recognised; ids cannot be recomputed afterwards."
            >
              <Select
                value={v.saltRotation}
                onChange={(e) => set('saltRotation', e.target.value as SiteFormValues['saltRotation'])}
              >
                {SALT_ROTATIONS.map((r) => (
                  <option key={r} value={r}>
                    {rotationLabel[r]}
                  </option>
                ))}
              </Select>
            </Field>
          </div>
          <Field
            label="Keep raw events"
            hint="Older raw events and visits are deleted; the dashboard's totals stay. Filtered views and raw exports end here."
            error={at('retentionDays')}
          >
            <Select
              value={v.retentionDays === null ? 'forever' : String(v.retentionDays)}
              onChange={(e) => set('retentionDays', e.target.value === 'forever' ? null : Number(e.target.value))}
            >
              {[...new Set([...RETENTION_CHOICES, v.retentionDays])].map((d) => (
                <option key={d ?? 'forever'} value={d === null ? 'forever' : String(d)}>
                  {retentionLabel(d)}
                </option>
              ))}
            </Select>
          </Field>
          <label className="flex items-start gap-2 text-sm text-slate-700">
            <input
              type="checkbox"
              checked={v.respectDnt}
              onChange={(e) => set('respectDnt', e.target.checked)}
              className="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600"
            />
            <span>
              Respect Do-Not-Track and Global Privacy Control
              <span className="block text-xs text-slate-500">
                Visitors who ask not to be tracked are not counted. Changing this changes the snippet.
              </span>
            </span>
          </label>
        </div>
      </details>

      <ContentGroupsEditor
        groups={v.contentGroups}
        onChange={(g) => set('contentGroups', g)}
        error={at('contentGroups')}
      />

      {error && !error.field && <Notice tone="error">{error.message}</Notice>}
      {error?.field && <Notice tone="error">Check the highlighted field.</Notice>}
      {saved && <Notice tone="success">Saved. The workers pick up the change within their refresh interval.</Notice>}
      <div className="flex justify-end">
        <button type="submit" disabled={busy} className={buttonClass('primary')}>
          {busy ? 'Saving…' : mode === 'create' ? 'Add site' : 'Save settings'}
        </button>
      </div>
    </form>
  );
}

function ContentGroupsEditor({
  groups,
  onChange,
  error,
}: {
  groups: ContentGroupInput[];
  onChange: (g: ContentGroupInput[]) => void;
  error: string | null;
}) {
  const update = (i: number, patch: Partial<ContentGroupInput>) =>
    onChange(groups.map((g, j) => (j === i ? { ...g, ...patch } : g)));
  const move = (i: number, d: -1 | 1) => {
    const next = [...groups];
    const [g] = next.splice(i, 1);
    next.splice(i + d, 0, g!);
    onChange(next);
  };
  return (
    <fieldset className="rounded-lg p-3 ring-1 ring-slate-200">
      <legend className="px-1 text-sm font-medium text-slate-700">Content groups</legend>
      <p className="text-xs text-slate-500">
        Name parts of the site by URL pattern (<code>/blog/**</code>) to see their peak hours separately. The first
        matching pattern wins.
      </p>
      <ul className="mt-3 space-y-2">
        {groups.map((g, i) => (
          <li key={i} className="flex flex-wrap items-center gap-2 sm:flex-nowrap">
            <input
              aria-label={`Group ${i + 1} name`}
              value={g.name}
              onChange={(e) => update(i, { name: e.target.value })}
              placeholder="Blog"
              maxLength={80}
              className="min-w-0 flex-1 rounded-lg border border-slate-300 px-3 py-1.5 text-sm"
            />
            <input
              aria-label={`Group ${i + 1} pattern`}
              value={g.pattern}
              onChange={(e) => update(i, { pattern: e.target.value })}
              placeholder="/blog/**"
              maxLength={200}
              className="min-w-0 flex-1 rounded-lg border border-slate-300 px-3 py-1.5 font-mono text-sm"
            />
            <span className="flex gap-1">
              <Button variant="ghost" size="sm" aria-label="Move up" disabled={i === 0} onClick={() => move(i, -1)}>
                ↑
              </Button>
              <Button
                variant="ghost"
                size="sm"
                aria-label="Move down"
                disabled={i === groups.length - 1}
                onClick={() => move(i, 1)}
              >
                ↓
              </Button>
              <Button
                variant="ghost"
                size="sm"
                aria-label="Remove group"
                onClick={() => onChange(groups.filter((_, j) => j !== i))}
              >
                ✕
              </Button>
            </span>
          </li>
        ))}
      </ul>
      {error && <p className="mt-2 text-xs text-rose-600">{error}</p>}
      <Button
        variant="secondary"
        size="sm"
        className="mt-3"
        onClick={() => onChange([...groups, { name: '', pattern: '/' }])}
        disabled={groups.length >= 50}
      >
        + Add group
      </Button>
    </fieldset>
  );
}
