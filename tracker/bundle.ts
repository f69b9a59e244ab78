import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

// The tracker as shipped: a minified IIFE. Shared by the build (public/t.js), the size test and
// the tracker-size benchmark, so all three measure the same bytes.

/** The budget for the whole tracker, after gzip -9. */
export const TRACKER_GZIP_BUDGET = 1400;

export interface TrackerBundle {
  code: string;
  rawBytes: number;
  gzipBytes: number;
  /** First 10 hex digits of the SHA-256 of the code: the versioned file name t.<hash>.js. */
  hash: string;
}

export async function bundleTracker(): Promise<TrackerBundle> {
  const out = await build({
    entryPoints: [path.join(import.meta.dirname, 'src/index.ts')],
    write: false,
    bundle: true,
    minify: true,
    format: 'iife',
    // Optional chaining and object spread stay native; every browser since 2020 runs it.
    target: ['es2020'],
    legalComments: 'none',
    logLevel: 'silent',
  });
  // The code is written for strict mode but needs nothing from it: drop the 13-byte directive.
  const code = out.outputFiles[0]!.text.replace(/^"use strict";/, '');
  const buf = Buffer.from(code);
  return {
    code,
    rawBytes: buf.length,
    gzipBytes: gzipSync(buf, { level: 9 }).length,
    hash: createHash('sha256').update(buf).digest('hex').slice(0, 10),
  };
}
