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
  });
});
