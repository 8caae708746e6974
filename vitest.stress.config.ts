import { defineConfig } from 'vitest/config';
import { STRESS_TESTS, testOptions } from './vitest.config.js';

/** `npm run test:stress`: the long randomized storms and fuzzing that `npm test` leaves out. */
export default defineConfig({
  test: {
    ...testOptions('test-results/vitest-stress.json'),
    include: STRESS_TESTS,
  },
});
