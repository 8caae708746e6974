import { configDefaults, defineConfig, type TestUserConfig } from 'vitest/config';

/**
 * Long randomized storms and fuzzing. `npm run test:stress` runs them (vitest.stress.config.ts),
 * and CI runs them after `npm test`; the default run leaves them out to stay a few minutes long.
 */
export const STRESS_TESTS = [
  // 50,000 random operations, with connection kills, through tenantPool.
  'test/isolation/pg-isolation.test.ts',
  // 5,000 adversarial requests on each of Express, Fastify and Koa.
  'test/adapters/fuzz.test.ts',
];

/**
 * The options both runs share; `report` is the JSON report CI writes and `.ci/run` counts
 * (scripts/test-summary.mjs).
 */
export function testOptions(report: string): TestUserConfig {
  return {
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default', ['json', { outputFile: report }]] : ['default'],
  };
}

export default defineConfig({
  test: {
    ...testOptions('test-results/vitest.json'),
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...STRESS_TESTS],
  },
});
