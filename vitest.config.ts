import os from 'node:os';
import path from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { HOOK_MS, IN_PROCESS_MS, MAX_CONCURRENT_TESTS } from './test/helpers/time-limit.js';

/**
 * The longest files first, so that no long file starts at the end and runs alone. Vitest orders
 * by the durations of the last run when it has them (node_modules/.vite); on a fresh clone (CI)
 * it has none and would order by file size, which puts the random-kill campaign (two files of
 * three lines, the longest work) last: then the campaign goes first, the other crash tests, the
 * CLI tests, and the unit tests last.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const cache = this.ctx.cache;
    const known = (f: TestSpecification) => cache.getFileTestResults(`${f.project.name}:${path.relative(this.ctx.config.root, f.moduleId)}`);
    if (sorted.every(known)) return sorted;
    const first = ['/test/crash/random-kills', '/test/crash/', '/test/integration/'];
    const rank = (f: TestSpecification) => {
      const at = first.findIndex((dir) => f.moduleId.includes(dir));
      return at < 0 ? first.length : at;
    };
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    // .cache/windows-lane holds the wine prefix, whose dosdevices/z: links to the whole file system.
    exclude: [...configDefaults.exclude, '.cache/**'],
    // The built simulated servers every worker copies its fixtures from (test/helpers/sim-fixture.ts).
    globalSetup: ['test/helpers/global-setup.ts'],
    // Buffers compared with Buffer.equals (test/helpers/setup.ts).
    setupFiles: ['test/helpers/setup.ts'],
    // Files in parallel, one per CPU: most of a CLI test is waiting for the processes it started
    // (vitest's default on a 2-CPU machine is ONE worker, every file after another). One more
    // than the CPUs was tried: with this suite's 72 files, two fresh-clone CI runs of 2026-12-04
    // each met a start that lost a race with the load (a simulated daemon's refusal read as
    // another failure; a start that ended in exit 1), so the files share the CPUs, no more.
    maxWorkers: os.availableParallelism(),
    // Time limits (test/helpers/time-limit.ts): a test that starts CLI processes says how many
    // (cliLimit); one that starts none, and every hook, gets these.
    testTimeout: IN_PROCESS_MS,
    hookTimeout: HOOK_MS,
    maxConcurrency: MAX_CONCURRENT_TESTS,
    sequence: { sequencer: LongestFirst },
  },
});
