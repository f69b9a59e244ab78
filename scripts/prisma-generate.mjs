// postinstall: generate the Prisma client offline. The CLI wants a schema-engine binary path even
// though generation does not use it, and downloading one fails without internet; point it at
// `true`, an executable every system has.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const engine = process.env.PRISMA_SCHEMA_ENGINE_BINARY || ['/usr/bin/true', '/bin/true'].find((p) => existsSync(p));
execFileSync(process.execPath, ['node_modules/prisma/build/index.js', 'generate'], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: engine, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
