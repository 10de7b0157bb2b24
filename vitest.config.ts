import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // npm run test:faults (vitest.faults.config.ts) runs these.
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    globalSetup: ['test/helpers/build.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Suites start real brokers and child processes; two cores run two files at a time.
    maxWorkers: 2,
    reporters: ['default']
  }
})
