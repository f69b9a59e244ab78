import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

// tracker-size: builds the tracker exactly as `npm run build:tracker` does, then measures the
// file Eddy serves (public/t.js) minified and after gzip -9, against the two anchors from the
// issue: Umami's tracker (2,225 B gzipped) and Plausible's (2,500 B).

const UMAMI_GZIP_BYTES = 2225;
const PLAUSIBLE_GZIP_BYTES = 2500;
const BUDGET = 1400;

const root = path.resolve(import.meta.dirname, '..');
const build = spawnSync(process.execPath, ['--import', 'tsx', 'tracker/build.ts'], { cwd: root, encoding: 'utf8' });
if (build.status !== 0) {
  console.error(build.stdout, build.stderr);
  process.exit(1);
}
const code = readFileSync(path.join(root, 'public/t.js'));
const gzipBytes = gzipSync(code, { level: 9 }).length;
const round = (x: number) => Math.round(x * 1000) / 1000;

console.log(
  `tracker (public/t.js): ${code.length} B minified, ${gzipBytes} B gzip -9 (budget ${BUDGET} B, ${BUDGET - gzipBytes} B to spare)`,
);
console.log(
  `vs Umami ${UMAMI_GZIP_BYTES} B: ${round(gzipBytes / UMAMI_GZIP_BYTES)}×; vs Plausible ${PLAUSIBLE_GZIP_BYTES} B: ${round(gzipBytes / PLAUSIBLE_GZIP_BYTES)}×`,
);
console.log(
  JSON.stringify({
    bench: 'tracker-size',
    gzip_bytes: gzipBytes,
    raw_bytes: code.length,
    vs_umami: round(gzipBytes / UMAMI_GZIP_BYTES),
    vs_plausible: round(gzipBytes / PLAUSIBLE_GZIP_BYTES),
  }),
);
if (gzipBytes > BUDGET) process.exitCode = 1;
