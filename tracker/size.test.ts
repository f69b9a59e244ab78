import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { bundleTracker, TRACKER_GZIP_BUDGET } from './bundle';

describe('tracker size', () => {
  it('the minified tracker stays within 1,400 bytes after gzip -9', async () => {
    const t = await bundleTracker();
    console.log(`[tracker size] ${t.rawBytes} B minified, ${t.gzipBytes} B gzip -9`);
    expect(t.gzipBytes).toBeLessThanOrEqual(TRACKER_GZIP_BUDGET);
  });

  it('the bundle is one self-contained IIFE that declares no globals', async () => {
    const { code } = await bundleTracker();
    expect(code.startsWith('(()=>{')).toBe(true);
    expect(code.trimEnd().endsWith('})();')).toBe(true);
    // Run it as a page would, in a global scope of its own: a top-level var or function would be a
    // property of that scope after the run (hoisted even if the script stops early for want of a
    // real DOM). The stubs are enough for it to find no data-site and stop.
    const page: Record<string, unknown> = {
      document: { currentScript: null, querySelector: () => null },
      location: { href: 'https://example.test/' },
    };
    page.window = page;
    const before = new Set(Object.keys(page));
    const ctx = vm.createContext(page);
    try {
      vm.runInContext(code, ctx);
    } catch {
      // stopped on a missing browser API: globals are what this checks
    }
    expect(Object.keys(page).filter((k) => !before.has(k))).toEqual([]);
    // And the check can fail: a script with a top-level declaration leaves it behind.
    const leaky = vm.createContext({});
    vm.runInContext('var leaked = 1; function alsoLeaked() {}', leaky);
    expect(Object.keys(leaky).sort()).toEqual(['alsoLeaked', 'leaked']);
  });
});
