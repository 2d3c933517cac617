import { defineConfig } from 'vitest/config';

/** The browser lane (npm run test:browser): only test/browser/*.browser.ts, which `npm test` leaves out. */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    // Chromium is heavy on two cores: one file, one browser at a time.
    maxWorkers: 1,
  },
});
