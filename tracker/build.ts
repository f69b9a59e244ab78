import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

// Builds the tracker into public/t.js: a minified IIFE served by Eddy itself.
const root = path.resolve(import.meta.dirname, '..');
mkdirSync(path.join(root, 'public'), { recursive: true });
await build({
  entryPoints: [path.join(root, 'tracker/src/index.ts')],
  outfile: path.join(root, 'public/t.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2019'],
  legalComments: 'none',
});
console.log('[tracker] built public/t.js');
