// @ts-check
import tseslint from 'typescript-eslint';

// The guardrails the codebase already keeps by habit, checked in `npm test` (issue 18 §5): no
// `any`, one import statement per module (type-only imports may stand apart), and no promise
// left floating — an unawaited rejection in a worker or handler is a crash or a silent loss.
// Mark a deliberate fire-and-forget with `void`.
export default tseslint.config(
  {
    ignores: ['node_modules/**', '.next/**', '.eddy/**', 'lib/db/generated/**', 'public/**', 'next-env.d.ts', 'tests/artifacts/**', '**/dist/**'],
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
);
