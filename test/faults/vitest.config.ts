import { defineConfig } from 'vitest/config';

/** The fault lane (npm run test:faults): only test/faults/*.lane.ts, which `npm test` leaves out. */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.lane.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    // One file; its trials run two at a time (fault-plan's concurrencyLimit).
    maxWorkers: 1,
  },
});
