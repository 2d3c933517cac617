import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // .cache/windows-lane holds the wine prefix, whose dosdevices/z: links to the whole file system.
    exclude: [...configDefaults.exclude, '.cache/**'],
  },
});
