import { afterEach, beforeEach, expect } from 'vitest';
import { cliProcessesStarted } from './run-cli.js';
import { cliLimit } from './time-limit.js';

/**
 * Bytes are equal when Buffer.equals says so. Vitest's own equality walks a Buffer (a
 * Uint8Array) element by element, which makes comparing two 2 MB Kmsdata trees (treeBytes)
 * take seconds; the result is the same, exact to the byte.
 */
expect.addEqualityTesters([
  function buffersEqual(a: unknown, b: unknown): boolean | undefined {
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : undefined;
  },
]);

/**
 * Every test that starts kms-recover processes (through run-cli.ts) has a limit that counts them
 * (test/helpers/time-limit.ts); one that has none (the in-process default) is told so, with what
 * to write. Not for tests run concurrently (their processes cannot be told apart here): they
 * count their own.
 */
let startedBefore = 0;
beforeEach(() => {
  startedBefore = cliProcessesStarted();
});
afterEach(({ task }) => {
  const started = cliProcessesStarted() - startedBefore;
  if (task.concurrent || started === 0 || task.timeout >= cliLimit(started)) return;
  throw new Error(`this test started ${started} kms-recover processes, and its time limit is ${task.timeout} ms: `
    + `give it cliLimit(${started}) from test/helpers/time-limit.ts (see the top of that file)`);
});
