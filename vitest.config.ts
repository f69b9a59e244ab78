import { defineConfig } from 'vitest/config';
import path from 'node:path';

const alias = { '@': path.resolve(import.meta.dirname) };

// Four projects so a newcomer can run the fast, pure tests alone (`npm run test:unit`);
// integration and browser tests need the services that scripts/test.ts starts.
export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        // A timeout here only guards against a hang: the property tests are CPU-bound, and on a
        // busy machine (2 cores, a build beside them) 3,000 runs took 5.6 s against the 5 s default.
        test: {
          name: 'unit',
          include: ['lib/**/*.test.ts', 'tracker/**/*.test.ts', 'workers/**/*.test.ts', 'tests/repo/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // The server-side SDK (packages/node): its pure tests and its tests against a real Eddy
        // (web + workers from tests/helpers/stack.ts), so it needs the services too.
        resolve: { alias },
        test: {
          name: 'sdk',
          include: ['packages/node/test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          environment: 'node',
          testTimeout: 90_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
