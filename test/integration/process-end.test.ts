import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/run-cli.js';
import { cliLimit } from '../helpers/time-limit.js';

/*
 * The CLI ends its process as soon as the event loop is empty (cli/index.ts), skipping Node's
 * teardown: nothing it printed may be lost on the way, and its exit status stays the command's.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-process-end-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the end of a command', () => {
  it('gives a reader that is slow to read the whole output, the same as the file the command writes', async () => {
    const file = path.join(dir, 'machine.svg');
    const args = ['diagram', '--detail', '--format', 'svg', '--no-run'];
    const written = await runCli([...args, '-o', file]);
    expect(written.code).toBe(0);
    const spawned = spawnCli(args);
    // The reader takes nothing for a while: the CLI's writes wait for it, and so must its end.
    spawned.child.stdout!.pause();
    setTimeout(() => spawned.child.stdout!.resume(), 300);
    const result = await spawned.done;
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(10_000);
    expect(result.stdout.trim()).toBe(fs.readFileSync(file, 'utf8').trim());
  }, cliLimit(2, { waitMs: 300 }));

  it('ends with the command\'s exit status and its last words: a refused start (3), a usage error (2)', async () => {
    const refused = await runCli(['start', '--adapter', 'sim', '--sim-root', path.join(dir, 'nope'), '--kmsdata', path.join(dir, 'nope', 'Exchsrvr', 'Kmsdata'),
      '--backup', path.join(dir, 'nope', 'backup'), '--json']);
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: 'SIM_INVALID' } });
    const usage = await runCli(['bogus']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('unknown command \'bogus\'');
  }, cliLimit(2));
});
