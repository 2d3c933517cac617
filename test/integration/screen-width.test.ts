import { spawn, spawnSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../recovery/run-status.js';
import { CLI, cliEnv, parseJson, runCli, type CliResult } from '../helpers/run-cli.js';
import { startArgs, startWithDiskArgs, wrongAlpha } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * One width and one time format (issue 22, items 6 and 7), with real processes: for a run in each
 * situation the simulator makes, `status`, `history`, `list`, `watch` and an error, at 80 and 120
 * columns (COLUMNS, as off a terminal) and on a pseudo-terminal of 120 columns. No line is wider
 * than the screen but a command longer than it, alone on its line; no word was split to get
 * there (every word of a narrow screen is a word of the same screen unwrapped, and every path of the run appears whole); times are local without their
 * offset, which each screen says once; no ISO time reaches the screen.
 */

/** A time zone with an offset, so that a time printed in UTC, or an offset on every row, shows. */
const TZ = 'Europe/Paris';
const WIDE = 1000;

/** Words a narrow layout has that the unwrapped one has not (history's and status's headers under a narrow screen). */
const LAYOUT_WORDS = new Set(['STATE,', 'then', 'WHAT', 'HAPPENED', 'under', 'it', 'Kmsdata:', 'Backup:']);

interface Made {
  sim: SimFixture;
  /** The command whose refusal is the error screen of this situation. */
  error: (runId: string) => string[];
}

/** `watch` ends on a resting run; where it waits on an interrupted or failed one, `--once` ends it. */
let watchOnce: string[] = [];
beforeAll(async () => {
  watchOnce = (await runCli(['watch', '--help'])).stdout.includes('--once') ? ['--once'] : [];
}, cliLimit(1));

async function started(args: string[], env: Record<string, string>, ok: (r: CliResult) => boolean): Promise<void> {
  const result = await runCli(args, { env });
  expect(ok(result), `${result.code} ${result.signal}\n${result.stdout}${result.stderr}`).toBe(true);
}

const SITUATIONS: { name: string; situation: string; make: () => Promise<Made> }[] = [
  {
    name: 'finished', situation: 'finished',
    make: async () => {
      const sim = await simFixture();
      await started(startWithDiskArgs(sim), {}, (r) => r.code === 0);
      return { sim, error: (id) => ['abandon', id, '--db', sim.db, '--yes'] };
    },
  },
  {
    name: 'waiting at a manual step', situation: 'waiting',
    make: async () => {
      const sim = await simFixture();
      await started(startWithDiskArgs(sim, ['--manual', 'clear']), {}, (r) => r.code === 8);
      return { sim, error: () => startWithDiskArgs(sim) };
    },
  },
  {
    name: 'failed (a wrong alpha string)', situation: 'failed',
    make: async () => {
      const sim = await simFixture();
      await started(startArgs(sim), { KMS_ALPHA_STRING: wrongAlpha(sim) }, (r) => r.code === 4);
      return { sim, error: () => startWithDiskArgs(sim) };
    },
  },
  {
    name: 'interrupted (its driver killed after the checkpoint of cleared)', situation: 'interrupted',
    make: async () => {
      const sim = await simFixture();
      await started(startWithDiskArgs(sim), { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' }, (r) => r.signal === 'SIGKILL');
      return { sim, error: () => startWithDiskArgs(sim) };
    },
  },
];

/** The screens of a run, each its output (stdout and stderr) at `columns`. */
async function screens(made: Made, runId: string, columns: number): Promise<Record<string, string>> {
  const db = ['--db', made.sim.db];
  const commands: Record<string, string[]> = {
    status: ['status', runId, ...db],
    history: ['history', runId, ...db],
    list: ['list', ...db],
    watch: ['watch', runId, ...watchOnce, ...db],
    error: made.error(runId),
  };
  const results = await Promise.all(Object.entries(commands).map(async ([name, args]) => {
    const result = await runCli(args, { env: { COLUMNS: String(columns), TZ } });
    if (name !== 'error') expect(result.code, `${name}: ${result.stderr}`).toBe(0);
    else expect(result.code, `the error screen: ${result.stdout}${result.stderr}`).not.toBe(0);
    return [name, `${result.stdout}${result.stderr}`] as const;
  }));
  return Object.fromEntries(results);
}

const lines = (text: string) => text.split('\n');
/** A line that holds one command and nothing else: `kms-recover …`, as the tests' CLI prints it (run-cli.ts). */
const COMMAND_LINE = /^ *kms-recover [a-z]+ [^ ]+( [^ ]+)*$/;
/** The words of a screen, without the times, counts and `3 seconds ago` that move between two looks at the run. */
const MOVING = /^(\(?just|now\)?|ago\)?|\(?less|than|a|seconds?|minutes?|hours?)$/;
const words = (text: string) => text.split(/\s+/).filter((w) => w !== '' && !/^[\d:.,;()-]+$/.test(w) && !MOVING.test(w));
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d/;
const OFFSET = /UTC[+-]\d\d:\d\d/g;

describe('one width, one time format', () => {
  for (const s of SITUATIONS) {
    it(`a run ${s.name}: status, history, list, watch and an error fit 80 and 120 columns, no word split`, async () => {
      const made = await s.make();
      const status = parseJson<RunStatus>(await runCli(['status', '--json', '--db', made.sim.db]));
      expect(status.situation).toBe(s.situation);
      const wide = await screens(made, status.runId, WIDE);
      for (const columns of [80, 120]) {
        const narrow = await screens(made, status.runId, columns);
        for (const [name, text] of Object.entries(narrow)) {
          const where = `${name} at ${columns} columns:\n${text}`;
          // Wider than the screen: only a command alone on its line, whole to be pasted (the terminal wraps it).
          expect(lines(text).filter((l) => l.length > columns && !COMMAND_LINE.test(l)), where).toEqual([]);
          expect(text, where).not.toMatch(ISO_TIME);
          const unwrapped = new Set(words(wide[name]!));
          expect(words(text).filter((w) => !unwrapped.has(w) && !LAYOUT_WORDS.has(w)), `${where}\nwords not in the unwrapped screen`).toEqual([]);
          for (const path of [made.sim.kmsdata, made.sim.backup, made.sim.db]) {
            if (wide[name]!.includes(path)) expect(text, `${where}\nthe path ${path} whole`).toContain(path);
          }
        }
        // Each screen with a table of times says its clock once; the rows carry none.
        for (const name of ['status', 'history', 'list']) {
          expect(narrow[name]!.match(OFFSET), `${name}: ${narrow[name]}`).toEqual([expect.stringMatching(/^UTC\+0[12]:00$/)]);
          expect(narrow[name]!.replace(/\s+/g, ' '), name).toMatch(/times are local, UTC\+0[12]:00/);
        }
      }
      const utc = await runCli(['status', status.runId, '--utc', '--db', made.sim.db], { env: { COLUMNS: '80', TZ } });
      expect(utc.stdout).toContain('times are UTC');
      expect(utc.stdout).not.toMatch(OFFSET);
      expect(utc.stdout).toContain(status.createdAt.slice(0, 19).replace('T', ' '));
      const list = await runCli(['list', '--utc', '--db', made.sim.db], { env: { COLUMNS: '80', TZ } });
      expect(list.stdout).toContain(status.updatedAt.slice(0, 19).replace('T', ' '));
    }, cliLimit(1 + 1 + 3 * 5 + 2));
  }
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe.runIf(hasScript)('on a terminal', () => {
  it('status, history, list and watch fit the terminal\'s 120 columns (stty), with no COLUMNS', async () => {
    const sim = await simFixture();
    await started(startWithDiskArgs(sim, ['--manual', 'clear']), {}, (r) => r.code === 8);
    const status = parseJson<RunStatus>(await runCli(['status', '--json', '--db', sim.db]));
    const cli = (args: string[]) => [process.execPath, CLI, ...args, '--db', sim.db].map((a) => `'${a}'`).join(' ');
    const command = ['stty cols 120', cli(['status']), cli(['history', status.runId]), cli(['list']), cli(['watch', status.runId, ...watchOnce])].join('; ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: cliEnv({ COLUMNS: undefined, TZ }), stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => { screen += d.toString(); });
    expect(await new Promise<number | null>((resolve) => child.on('close', resolve))).toBe(0);
    // eslint-disable-next-line no-control-regex
    const text = screen.replace(/\r/g, '').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    expect(text).toContain('waiting for you');
    expect(text).toContain(`kms-recover watch ${status.runId}`);
    expect(lines(text).filter((l) => l.length > 120 && !COMMAND_LINE.test(l)), text).toEqual([]);
    // Wider than 80: the terminal's width is used, not the default.
    expect(lines(text).some((l) => l.length > 80), text).toBe(true);
  }, cliLimit(2 + 4));
});
