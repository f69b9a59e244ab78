import { parseEnv, type Env } from '@/lib/env';

/**
 * The settings a test builds jobs with: lib/env.ts's defaults and the overrides it names, never
 * this process's environment, so a job sees exactly what the test says it does.
 */
export function jobSettings(overrides: Partial<Env> = {}): Env {
  return { ...parseEnv({}), ...overrides };
}
