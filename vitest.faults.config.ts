import { defineConfig } from 'vitest/config'

/** `npm run test:faults`: hostile input and faults against real hubs; kept out of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Each file runs a hub process that the fuzz loads hard; one file at a time keeps RSS figures readable.
    maxWorkers: 1,
    reporters: ['default']
  }
})
