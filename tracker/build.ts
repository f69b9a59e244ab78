import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleTracker, TRACKER_GZIP_BUDGET } from './bundle';

// Builds the tracker into public/t.js (the snippet's stable URL) and public/t.<hash>.js (a
// content-addressed copy that can be cached forever). Older hashed copies are removed.
const root = path.resolve(import.meta.dirname, '..');
const pub = path.join(root, 'public');
mkdirSync(pub, { recursive: true });
const t = await bundleTracker();
for (const f of readdirSync(pub))
  if (/^t\.[0-9a-f]{10}\.js$/.test(f) && f !== `t.${t.hash}.js`) rmSync(path.join(pub, f));
writeFileSync(path.join(pub, 't.js'), t.code);
writeFileSync(path.join(pub, `t.${t.hash}.js`), t.code);
// The tracker's options, served beside it (/tracker-options.txt) so the snippet page can link them.
copyFileSync(path.join(root, 'tracker', 'README.md'), path.join(pub, 'tracker-options.txt'));
console.log(
  `[tracker] built public/t.js and public/t.${t.hash}.js: ${t.rawBytes} B, ${t.gzipBytes} B gzip -9 (budget ${TRACKER_GZIP_BUDGET})`,
);
if (t.gzipBytes > TRACKER_GZIP_BUDGET) console.warn(`[tracker] WARNING: over the ${TRACKER_GZIP_BUDGET} B budget`);
