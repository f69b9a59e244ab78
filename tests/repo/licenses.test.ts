import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_COUNTRY_PACKAGE } from '@/lib/collect/enrich/country';
import { installedManifest, productionPackages, readManifest, repoRoot } from './package-facts';

// Eddy is MIT (LICENSE). Everything shipped with it at run time — the production dependency tree,
// every platform's optional packages included — must carry a licence that lets an MIT project
// redistribute it. Copyleft that would reach Eddy's own code (GPL, AGPL: e.g. ua-parser-js v2, so
// we stay on v1; SSPL, BUSL) fails this test; so does a package with no licence at all.
const permissive = new Set([
  'MIT',
  'MIT-0',
  'ISC',
  'BSD-2-Clause',
  'BSD-3-Clause',
  '0BSD',
  'Apache-2.0',
  'Unlicense',
  'CC0-1.0',
  'BlueOak-1.0.0',
]);

/** Named packages allowed a licence beyond the list, each with the reason it is compatible. */
const exceptions: { name: RegExp; license: string; why: string }[] = [
  {
    name: /^@img\/sharp-/,
    license: 'LGPL-3.0-or-later',
    why: "libvips, a separately packaged shared library that Next.js's optional image optimizer (sharp) loads dynamically; the LGPL allows that in an MIT app",
  },
  {
    name: /^caniuse-lite$/,
    license: 'CC-BY-4.0',
    why: 'browser-support data used by the CSS/JS build tooling; attribution is kept in the package',
  },
];

/** The licence ids of a manifest's `license` (SPDX) or legacy `licenses: [{ type }]` field. */
function licenseOf(m: { license?: unknown; licenses?: unknown } | undefined): string | undefined {
  if (!m) return undefined;
  if (typeof m.license === 'string') return m.license;
  if (m.license && typeof m.license === 'object' && 'type' in m.license)
    return String((m.license as { type: unknown }).type);
  if (Array.isArray(m.licenses)) return m.licenses.map((l: { type?: unknown }) => String(l.type)).join(' OR ');
  return undefined;
}

/** An SPDX expression (AND / OR, optional parentheses) is acceptable when some alternative is all acceptable ids. */
function acceptable(name: string, expression: string): boolean {
  const ok = (id: string) => permissive.has(id) || exceptions.some((e) => e.name.test(name) && e.license === id);
  return expression
    .replace(/[()]/g, ' ')
    .split(/\s+OR\s+/)
    .some((alt) => alt.split(/\s+AND\s+/).every((id) => ok(id.trim())));
}

describe('licences', () => {
  it('Eddy is MIT: LICENSE file and package.json agree', () => {
    expect(readManifest().license).toBe('MIT');
  });

  it('every runtime dependency has a licence compatible with MIT', () => {
    const refused = productionPackages().flatMap(({ lockPath, name, entry }) => {
      // The installed manifest when there is one (what is really shipped), else the lockfile's copy.
      const license = licenseOf(installedManifest(lockPath)) ?? licenseOf(entry);
      return license && acceptable(name, license)
        ? []
        : [`${name}@${entry.version ?? '?'}: ${license ?? 'no licence'}`];
    });
    expect(refused).toEqual([]);
  });

  it('attributes the embedded country data as its licence asks (CC BY 4.0, NRO), whatever its manifest says', () => {
    // The manifest says CC0-1.0; the data's own licence file says CC BY 4.0 with attribution to the NRO.
    const notice = path.join(repoRoot, 'node_modules', EMBEDDED_COUNTRY_PACKAGE, 'NRO_LICENSE');
    expect(existsSync(notice), `${EMBEDDED_COUNTRY_PACKAGE} ships NRO_LICENSE`).toBe(true);
    expect(readFileSync(notice, 'utf8')).toMatch(/Creative Commons Attribution 4\.0/);
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(EMBEDDED_COUNTRY_PACKAGE);
    expect(readme).toContain(
      'IP-to-country data from the Number Resource Organization (https://www.nro.net/), CC BY 4.0',
    );
  });

  it('stays on ua-parser-js v1 (v2 is AGPL-3.0)', () => {
    expect(readManifest(path.join('node_modules', 'ua-parser-js', 'package.json')).version).toMatch(/^1\./);
  });

  it('reads SPDX expressions', () => {
    expect(acceptable('x', 'MIT OR GPL-3.0')).toBe(true);
    expect(acceptable('x', '(MIT AND AGPL-3.0-or-later)')).toBe(false);
    expect(acceptable('ua-parser-js', 'AGPL-3.0-or-later')).toBe(false);
    expect(acceptable('@img/sharp-wasm32', 'Apache-2.0 AND LGPL-3.0-or-later AND MIT')).toBe(true);
    expect(acceptable('other', 'LGPL-3.0-or-later')).toBe(false);
  });
});
