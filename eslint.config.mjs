// @ts-check
import tseslint from 'typescript-eslint';

// The guardrails the codebase already keeps by habit, checked in `npm test` (issue 18 §5): no
// `any`, one import statement per module (type-only imports may stand apart), and no promise
// left floating — an unawaited rejection in a worker or handler is a crash or a silent loss.
// Mark a deliberate fire-and-forget with `void`.
export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.next/**',
      '.eddy/**',
      'lib/db/generated/**',
      'public/**',
      'next-env.d.ts',
      'tests/artifacts/**',
      '**/dist/**',
    ],
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-duplicate-imports': ['error', { allowSeparateTypeImports: true }],
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
    },
  },
  {
    // What `server-only` would say, without its import: that package throws outside Next's
    // react-server build, and lib/db serves the workers and scripts too (plain Node). Components
    // render in the browser or are shared with it, so the database, the raw pool and the settings
    // (secrets) are out of their reach; data comes through a route handler or a server page.
    files: ['components/**/*.ts', 'components/**/*.tsx', 'tracker/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'pg',
              message: 'Database access belongs to lib/ and route handlers, not to code that can run in a browser.',
            },
            {
              name: '@/lib/env',
              message: 'Settings (and their secrets) are server-side; pass what a component needs as props.',
            },
          ],
          patterns: [
            {
              group: ['@/lib/db/*', '@prisma/*', '**/lib/db/*'],
              message: 'Database access belongs to lib/ and route handlers, not to code that can run in a browser.',
            },
          ],
        },
      ],
    },
  },
);
