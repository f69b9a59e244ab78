'use client';
import { useEffect, useState } from 'react';

// Light, dark or the system's preference. The choice lives in localStorage; <html data-theme> is
// always the theme in effect, so app/globals.css holds the dark palette once. app/layout.tsx's
// inline script sets it before the first paint and, while the choice is "system", follows the
// system's preference as it changes (the script's listener stays for the page's lifetime).

type Theme = 'system' | 'light' | 'dark';
const KEY = 'eddy-theme';
const NEXT: Record<Theme, Theme> = { system: 'dark', dark: 'light', light: 'system' };
const LABEL: Record<Theme, string> = { system: 'Theme: system', dark: 'Theme: dark', light: 'Theme: light' };
// Geometric shapes: the system font stack has them everywhere (a moon glyph rendered as a box on Debian's fonts).
const ICON: Record<Theme, string> = { system: '◐', dark: '●', light: '○' };

const QUERY = '(prefers-color-scheme: dark)';
export const themeBootScript = `try{var m=matchMedia('${QUERY}'),f=function(){var t=localStorage.getItem('${KEY}');document.documentElement.dataset.theme=t==='dark'||t==='light'?t:m.matches?'dark':'light'};f();m.addEventListener('change',f)}catch(e){}`;

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>('system');
  useEffect(() => {
    const t = localStorage.getItem(KEY);
    if (t === 'dark' || t === 'light') setTheme(t);
  }, []);
  const choose = (t: Theme) => {
    setTheme(t);
    if (t === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, t);
    document.documentElement.dataset.theme = t === 'system' ? (matchMedia(QUERY).matches ? 'dark' : 'light') : t;
  };
  return (
    <button
      type="button"
      onClick={() => choose(NEXT[theme])}
      aria-label={`${LABEL[theme]} (switch)`}
      title={LABEL[theme]}
      data-testid="theme-toggle"
      data-theme-choice={theme}
      className="shrink-0 rounded-md px-2 py-1.5 text-sm text-slate-600 hover:bg-slate-100 hover:text-slate-900"
    >
      {ICON[theme]}
    </button>
  );
}
