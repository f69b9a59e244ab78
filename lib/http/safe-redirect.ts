/** A same-site path to go to after sign-in; anything else (other hosts, "//evil") becomes `fallback`. */
export function safeCallbackPath(value: string | string[] | undefined, fallback = '/sites'): string {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v || !v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\')) return fallback;
  return v.slice(0, 500);
}
