// Where to send the browser after sign-in (or sign-up): a path on Eddy's own origin, or `fallback`.
//
// Browsers are lenient in ways a prefix check misses: they strip tab/CR/LF anywhere in a URL
// (`/\t/evil.example` becomes `//evil.example`), read `\` as `/`, and Next's router decodes
// percent-escapes. So the value is decoded until stable and every form is checked: no control
// characters, no backslash, no scheme-relative `//` start, and resolving it against a dummy
// origin must stay on that origin. Anything doubtful falls back rather than erroring, so a
// hostile link never gives a 500 either.

const MAX_LENGTH = 500;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const PROBE_ORIGIN = 'http://eddy.invalid';

/** The value and each successively percent-decoded form of it; null when decoding fails. */
function decodedForms(v: string): string[] | null {
  const forms = [v];
  for (let i = 0; i < 4; i++) {
    let next: string;
    try {
      next = decodeURIComponent(forms[forms.length - 1]!);
    } catch {
      return null;
    }
    if (next === forms[forms.length - 1]) return forms;
    forms.push(next);
  }
  return null; // still changing after 4 rounds: nobody links like that
}

function isSafePath(form: string): boolean {
  if (!form.startsWith('/') || form.startsWith('//')) return false;
  if (form.includes('\\') || CONTROL.test(form)) return false;
  try {
    return new URL(form, PROBE_ORIGIN).origin === PROBE_ORIGIN;
  } catch {
    return false;
  }
}

/** A same-origin path to go to after sign-in; anything else (other hosts, "//evil", "/\tevil") becomes `fallback`. */
export function safeCallbackPath(value: string | string[] | undefined, fallback = '/sites'): string {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v || v.length > MAX_LENGTH) return fallback;
  const forms = decodedForms(v);
  if (!forms || !forms.every(isSafePath)) return fallback;
  return v;
}

/**
 * next-auth's `redirect` callback: `url` may be a path or an absolute URL. Only Eddy's own
 * origin is accepted, and its path must pass the same checks; anything else goes to `baseUrl`.
 */
export function safeAuthRedirect(url: string, baseUrl: string): string {
  if (url.startsWith('/')) {
    const safe = safeCallbackPath(url, '');
    return safe ? `${baseUrl.replace(/\/+$/, '')}${safe}` : baseUrl;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return baseUrl;
  }
  if (parsed.origin !== new URL(baseUrl).origin) return baseUrl;
  // The parser has already dropped tabs/newlines, so check what it made of the path.
  const safe = safeCallbackPath(`${parsed.pathname}${parsed.search}${parsed.hash}`, '');
  return safe ? `${parsed.origin}${safe}` : baseUrl;
}
