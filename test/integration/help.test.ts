import { afterEach, describe, expect, it } from 'vitest';
import { STEP_NAMES } from '../../machines/recovery.order.js';
import { STEP_ALIASES } from '../../recovery/step-policy.js';
import { eventRows } from '../helpers/event-rows.js';
import { runCli } from '../helpers/run-cli.js';
import { runIdOf, startArgs, startWithDiskArgs } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

// Its simulated servers (a KMS daemon each) are stopped and removed after each test: left, each
// run of the suite kept two daemons running and two folders in the temporary folder.
afterEach(cleanupSimFixtures);

/** The command names of a help's `Commands:` section (without `help`). */
function commandsOf(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

/** The long options a help lists (`--kmsdata`, `--db`, ...). */
function optionsOf(help: string): Set<string> {
  const section = help.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return new Set([...section.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!));
}

/** Each example command line of a help (the indented `kms-recover ...` lines after `Examples:`). */
function examplesOf(help: string): string[] {
  const section = help.split(/^Examples:$/m)[1] ?? '';
  return [...section.matchAll(/^ {4}(kms-recover .*)$/gm)].map((m) => m[1]!);
}

async function help(words: string[]): Promise<string> {
  const result = await runCli([...words, '--help']);
  expect(result.code, words.join(' ')).toBe(0);
  return result.stdout;
}

describe('--help', () => {
  it('every command\'s help ends with examples of itself, whose options it has; none prints "(default: [])"', async () => {
    const top = await help([]);
    const commands = commandsOf(top);
    expect(commands).toEqual(expect.arrayContaining(['start', 'resume', 'confirm', 'status', 'watch', 'history', 'diagram', 'demo', 'sim']));
    const sim = commandsOf(await help(['sim']));
    expect(sim).toEqual(expect.arrayContaining(['init', 'start', 'reboot']));
    const all = [[], ...commands.map((c) => [c]), ...sim.map((c) => ['sim', c])];
    const texts: string[] = [];
    for (const words of all) texts.push(await help(words));
    all.forEach((words, i) => {
      const text = texts[i]!;
      const name = words.join(' ');
      expect(text, name).not.toContain('(default: [])');
      const examples = examplesOf(text);
      expect(examples.length, `${name || 'kms-recover'} has examples`).toBeGreaterThan(0);
      // The examples of a command are that command, with options its help lists.
      if (words.length === 0 || name === 'sim') return;
      for (const example of examples) {
        expect(example.startsWith(`kms-recover ${name} `) || example === `kms-recover ${name}`, example).toBe(true);
        const options = optionsOf(text);
        for (const option of example.match(/(?<=\s)--[\w-]+/g) ?? []) expect(options.has(option), `${example}: ${option}`).toBe(true);
      }
    });
  }, cliLimit(30)); // every command's help: about 20

  it('start and resume list the steps, their short names and the ranges; diagram lists its text format; confirm its steps', async () => {
    const [start, resume, diagram, confirm] = await Promise.all([help(['start']), help(['resume']), help(['diagram']), help(['confirm'])]);
    for (const text of [start, resume]) {
      for (const [alias, step] of Object.entries(STEP_ALIASES)) expect(text).toMatch(new RegExp(`^ {2}${step} \\(${alias}\\) +\\d+ s, \\d+ attempts?`, 'm'));
      expect(text).toMatch(/^ {2}--timeout +1 to 86400 s/m);
      expect(text).toMatch(/^ {2}--attempts +1 to 100\b/m);
      expect(text).toMatch(/^ {2}--backoff +0\.001 to 86400 s/m);
      expect(text).toMatch(/^ {2}--settle +0 to 600 s/m);
    }
    expect(start).toContain('C:\\exchsrvr\\KMSDATA --backup E:\\backup\\KMSDATA --startup-disk A:\\Kmspwd.ini');
    expect(diagram).toMatch(/--format <format> +text \(the default/);
    for (const step of STEP_NAMES) expect(confirm).toContain(step);
  }, cliLimit(4));
});

describe('usage errors', () => {
  it('an unknown option is reported before a missing required one', async () => {
    const bogus = await runCli(['start', '--bogus']);
    expect(bogus).toMatchObject({ code: 2, stdout: '', stderr: "kms-recover: unknown option '--bogus'; see kms-recover start --help\n" });
    const missing = await runCli(['start', '--kmsdata', 'C:\\exchsrvr\\KMSDATA']);
    expect(missing).toMatchObject({ code: 2, stderr: "kms-recover: required option '--backup <dir>' not specified; see kms-recover start --help\n" });
  }, cliLimit(2));
});

describe('history', () => {
  it('without a run id tells the latest run, and a policy change names the values it set', async () => {
    const sim = await simFixture();
    expect((await runCli(startWithDiskArgs(sim, ['--manual', 'stop']))).code).toBe(8);
    const runId = await runIdOf(sim);
    const changed = await runCli(['resume', '--timeout', 'restore=600', '--attempts', 'start=5', '--settle', '20', '--db', sim.db]);
    expect(changed.code, changed.stderr).toBe(8); // still waiting for the operator's stop
    expect(eventRows(sim.db).filter((e) => e.event === 'policy.changed')).toHaveLength(1);
    const history = await runCli(['history', '--db', sim.db]);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain(`Run ${runId}:`);
    expect(history.stdout).toContain('time limit of restoreKmsdata set to 600 s; attempts of startService set to 5; settle window set to 20 s');
  }, cliLimit(4));
});

describe('start --dry-run', () => {
  it('needs no alpha string, and plans manual steps too', async () => {
    const sim = await simFixture();
    // No --startup-disk, no KMS_ALPHA_STRING, no terminal: the start would refuse; the dry run plans.
    const plain = await runCli(startArgs(sim, ['--dry-run']));
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('Alpha string: not asked for now; the start asks for it at a hidden prompt');
    for (const step of ['stop', 'start']) {
      const manual = await runCli(startArgs(sim, ['--dry-run', '--manual', step]));
      expect(manual.code, manual.stderr).toBe(0);
      expect(manual.stdout).toMatch(new RegExp(`${STEP_ALIASES[step]} \\[manual\\]`));
    }
    const disk = await runCli(startWithDiskArgs(sim, ['--dry-run']));
    expect(disk.stdout).toContain('Alpha string: read from the startup disk.');
  }, cliLimit(4));
});
