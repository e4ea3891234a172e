import { defineConfig } from 'vitest/config'

// Long-running variants (`npm run test:soak`): minutes of churn and faults, one file at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.soak.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 20 * 60_000,
    hookTimeout: 5 * 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
})
