import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { quoteWord } from '../../cli/printed-commands.js';
import { CLI, cliEnv, printedCommand, REPO_ROOT, runCli, type CliResult } from '../helpers/run-cli.js';
import { startArgs, startWithDiskArgs, statusOf, wrongAlpha } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

/*
 * Issue 22, item 1: every command a screen prints works as printed. The tests' CLI has the
 * built CLI as `kms-recover` first on its PATH (test/helpers/run-cli.ts, as `npm link` leaves
 * it), so it prints `kms-recover …`; each run here is started with --db in a temporary folder,
 * so every command it prints names that database. Each command is then run verbatim by `sh -c`
 * in a fresh folder, with nothing set that names the database: none may be unknown to the
 * shell (127), a usage error (2), or find no run.
 */

afterEach(cleanupSimFixtures);

/** The command of a screen's `Next:` line. */
function nextCommand(stdout: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith('Next: '));
  expect(line, stdout).toBeDefined();
  return line!.slice('Next: '.length);
}

const COMMANDS = 'start|resume|confirm|abandon|takeover|status|watch|list|history|diagram|demo|sim';
/** Options that take a value (the next word). */
const VALUED = new Set(['--db', '--startup-disk', '--kmsdata', '--backup', '--from', '--reason', '--adapter', '--sim-root', '--timeout', '--attempts', '--backoff', '--settle', '--run', '--format', '--limit', '--dir', '--manual', '-o', '--output']);
const STEP = /^(stopService|clearKmsdata|restoreKmsdata|setCredential|startService|stop|clear|restore|credential|start)$/;
/** The arguments a command cannot go without: with fewer, the words only name the command (`then kms-recover confirm`). */
const REQUIRED: Record<string, number> = { confirm: 2, history: 1, takeover: 1, abandon: 1, sim: 2 };

interface Printed {
  command: string;
  /** The line it was printed in. */
  line: string;
  /** Only named, not to be run: it lacks its arguments. */
  mention: boolean;
}

/**
 * Every `<program> <command> …` in a screen, each as far as its words go: options and their
 * values, run ids, step names, paths and quoted words; prose after it ends it.
 */
function commandsIn(screen: string, program = 'kms-recover'): Printed[] {
  const found: Printed[] = [];
  const at = new RegExp(`(?<![\\w./-])${program.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (${COMMANDS})\\b`, 'g');
  for (const line of screen.split('\n')) {
    for (const m of line.matchAll(at)) {
      const command = m[1]!;
      const words = [...line.slice(m.index + m[0].length).matchAll(/"[^"]*"|\S+/g)].map((w) => w[0]);
      const taken: string[] = [];
      let positional = 0;
      for (let i = 0; i < words.length; i += 1) {
        const word = words[i]!.replace(/[.,;:)]+$/, '');
        const ended = word !== words[i];
        if (word.startsWith('-')) {
          taken.push(word);
          if (VALUED.has(word) && i + 1 < words.length) {
            i += 1;
            const value = words[i]!.replace(/[,;)]+$/, '');
            taken.push(value);
            if (value !== words[i]) break;
          }
        } else if (/^[0-9a-f]{8}$/.test(word) || STEP.test(word) || word.startsWith('/') || word.startsWith('"') || /^<[^>]+>$/.test(word) || (command === 'sim' && positional === 0)) {
          taken.push(word);
          positional += 1;
        } else break;
        if (ended) break;
      }
      const mention = positional < (REQUIRED[command] ?? 0) || (command === 'start' && !taken.includes('--kmsdata'));
      found.push({ command: [program, command, ...taken].join(' '), line, mention });
    }
  }
  return found;
}

interface Ran extends CliResult {
  command: string;
}

/** A command run as typed at a prompt: `sh -c`, in a fresh empty folder, with the tests' PATH. */
function typed(command: string, options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<Ran> {
  const cwd = options.cwd ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kms-prompt-'));
  const child = spawn('sh', ['-c', command], { cwd, env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (!options.cwd) fs.rmSync(cwd, { recursive: true, force: true });
      resolve({ command, code, signal, stdout, stderr });
    });
  });
}

/** What typing a printed command must never give: an unknown program, a usage error, or no run where the run is. */
function expectWorked(ran: Ran): void {
  const said = `${ran.command}\n=> exit ${ran.code ?? ran.signal}\n${ran.stdout}${ran.stderr}`;
  expect(ran.code, said).not.toBe(127);
  expect(ran.code, said).not.toBe(2);
  expect(ran.signal, said).toBeNull();
  expect(`${ran.stdout}${ran.stderr}`, said).not.toMatch(/not found|no runs? |no kms-recover database|unknown (option|command)/);
}

let watchOnce: string[] | undefined;

/** `watch --once` where the tool has it (a watch that waits on an interrupted run), else `watch`. */
async function watchArgs(): Promise<string[]> {
  watchOnce ??= (await runCli(['watch', '--help'])).stdout.includes('--once') ? ['watch', '--once'] : ['watch'];
  return watchOnce;
}

/** Every screen of a run a reader looks at: status, watch, list, history (text and --json's command fields). */
async function readScreens(db: string): Promise<string[]> {
  const [status, watch, list, json] = await Promise.all([
    runCli(['status', '--db', db]), runCli([...await watchArgs(), '--db', db]), runCli(['list', '--db', db]), runCli(['status', '--json', '--db', db])]);
  const fields = JSON.parse(json.stdout) as { next: string | null; resumeCommand: string; waitingFor: { command: string } | null };
  return [status.stdout, status.stderr, watch.stdout, list.stdout, fields.next ?? '', fields.resumeCommand, fields.waitingFor?.command ?? ''];
}

/**
 * Runs every command of `screens` verbatim, the ones that only read first, then each command
 * that drives the run once; placeholders are filled in as the administrator would
 * (`<Kmspwd.ini>`: the original startup disk; `<run>`: the run). Returns what was run.
 */
async function runEveryCommand(screens: string[], fill: Record<string, string> = {}, env: Record<string, string | undefined> = {}): Promise<Ran[]> {
  const printed = screens.flatMap((s) => commandsIn(s));
  for (const p of printed.filter((q) => q.mention)) expect(p.line, `only named: ${p.command}`).toMatch(/^Manual: /);
  const commands = [...new Set(printed.filter((p) => !p.mention).map((p) => p.command.replace(/<[^>]+>/g, (h) => {
    expect(fill[h], `a placeholder the test does not know: ${h} in ${p.command}`).toBeDefined();
    return quoteWord(fill[h]!);
  })))];
  const drives = /^kms-recover (resume|confirm|takeover|abandon|start|demo|sim) /;
  const ran: Ran[] = [];
  for (const command of [...commands.filter((c) => !drives.test(c)), ...commands.filter((c) => drives.test(c))]) {
    const result = await typed(command, { env });
    expectWorked(result);
    ran.push(result);
  }
  return ran;
}

/** A database in a temporary folder of the test's own, named by --db. */
function dbIn(sim: SimFixture): string {
  return path.join(sim.dir, 'records', 'k.db');
}

function madeDb(sim: SimFixture): string {
  const db = dbIn(sim);
  fs.mkdirSync(path.dirname(db), { recursive: true });
  return db;
}

describe('every printed command works as printed', () => {
  it('waiting at a manual step: start, status, watch, list and a refused confirm print commands that work from any folder', async () => {
    const sim = await simFixture();
    const db = madeDb(sim);
    const started = await runCli(startWithDiskArgs(sim, ['--manual', 'clear'], db));
    expect(started.code, started.stderr).toBe(8);
    const { runId } = await statusOf(sim, expect, db);
    const confirm = printedCommand(`kms-recover confirm ${runId} clearKmsdata --startup-disk ${sim.startupDisk}`, db);
    expect(nextCommand(started.stdout)).toBe(confirm);
    // The error line of a confirm of another step names the step the run waits for, as a command.
    const wrongStep = await runCli(['confirm', runId, 'stopService', '--db', db, '--startup-disk', sim.startupDisk]);
    expect(wrongStep.code).not.toBe(0);
    const screens = [started.stdout, started.stderr, wrongStep.stderr, ...await readScreens(db)];
    expect(screens.flatMap((s) => commandsIn(s)).map((p) => p.command)).toContain(confirm);

    // The administrator does the step as the screen says, then types what it printed.
    for (const entry of fs.readdirSync(sim.kmsdata)) fs.rmSync(path.join(sim.kmsdata, entry), { recursive: true });
    const ran = await runEveryCommand(screens);
    expect(ran.find((r) => r.command === confirm)?.code).toBe(0);
    expect(await statusOf(sim, expect, db)).toMatchObject({ situation: 'finished' });
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  }, cliLimit(16));

  it('interrupted: the resume it prints, typed in another folder, finishes the run', async () => {
    const sim = await simFixture();
    const db = madeDb(sim);
    const killed = await runCli(startWithDiskArgs(sim, [], db), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' } });
    expect(killed.signal).toBe('SIGKILL');
    const { runId } = await statusOf(sim, expect, db);
    const screens = [killed.stdout, killed.stderr, ...await readScreens(db)];
    expect(screens.flatMap((s) => commandsIn(s)).map((p) => p.command))
      .toContain(printedCommand(`kms-recover resume ${runId} --startup-disk ${sim.startupDisk}`, db));
    // list says how a stale run is taken over, for whichever <run> it is.
    await runEveryCommand(screens, { '<run>': runId });
    expect(await statusOf(sim, expect, db)).toMatchObject({ situation: 'finished' });
  }, cliLimit(14));

  it('failed with a wrong alpha string in KMS_ALPHA_STRING: set to the original as the advice says, the resume it prints finishes the run', async () => {
    const sim = await simFixture();
    const db = madeDb(sim);
    const failed = await runCli(startArgs(sim, [], db), { env: { KMS_ALPHA_STRING: wrongAlpha(sim) } });
    expect(failed.code).not.toBe(0);
    expect(await statusOf(sim, expect, db)).toMatchObject({ situation: 'failed', lastError: { code: 'ALPHA_REJECTED' } });
    const screens = [failed.stdout, failed.stderr, ...await readScreens(db)];
    // The advice says what to do first, then the command: set KMS_ALPHA_STRING to the original's, as it says.
    expect(failed.stdout).toContain('The alpha string in KMS_ALPHA_STRING was refused. Set it to the ORIGINAL server\'s alpha string');
    const ran = await runEveryCommand(screens, { '<Kmspwd.ini>': sim.startupDisk }, { KMS_ALPHA_STRING: sim.alpha });
    expect(ran.some((r) => /^kms-recover resume /.test(r.command) && r.code === 0), ran.map((r) => r.command).join('\n')).toBe(true);
    expect(await statusOf(sim, expect, db)).toMatchObject({ situation: 'finished' });
  }, cliLimit(14));

  it('finished, the demo, and the error lines: history, sim stop, --help and list work as printed', async () => {
    const sim = await simFixture();
    const db = madeDb(sim);
    const done = await runCli(startWithDiskArgs(sim, [], db));
    expect(done.code, done.stderr).toBe(0);
    const { runId } = await statusOf(sim, expect, db);
    const screens = [done.stdout, done.stderr, ...await readScreens(db)];
    expect(screens.flatMap((s) => commandsIn(s)).map((p) => p.command)).toContain(printedCommand(`kms-recover history ${runId}`, db));

    // Error lines: nothing left to resume names list; a usage error names the command's help.
    const nothing = await runCli(['resume', '--db', db]);
    const usage = await runCli(['status', '--bogus', '--db', db]);
    expect(usage.code).toBe(2);
    const errors = [nothing.stderr, usage.stderr];
    expect(errors.flatMap((s) => commandsIn(s)).map((p) => p.command)).toEqual([printedCommand('kms-recover list', db), 'kms-recover status --help']);

    // The demo ends with how to stop its simulated KMS.
    const demoDir = path.join(sim.dir, 'demo');
    const demo = await runCli(['demo', '--dir', demoDir, '--db', path.join(sim.dir, 'records', 'demo.db')]);
    expect(demo.code, demo.stderr).toBe(0);
    const stop = `kms-recover sim stop ${demoDir}`;
    expect(commandsIn(demo.stdout).map((p) => p.command)).toContain(stop);

    const ran = await runEveryCommand([...screens, ...errors, demo.stdout, demo.stderr]);
    expect(ran.map((r) => r.command)).toContain(stop);
    expect(JSON.parse((await runCli(['sim', 'status', demoDir, '--json'])).stdout)).toMatchObject({ state: 'stopped' });
  }, cliLimit(16));

  it('without kms-recover on the PATH the printed command is node <the CLI>, and works', async () => {
    const sim = await simFixture();
    const db = madeDb(sim);
    const env = { PATH: [path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter) };
    const started = await runCli(startWithDiskArgs(sim, ['--manual', 'clear'], db), { env });
    expect(started.code, started.stderr).toBe(8);
    const { runId } = await statusOf(sim, expect, db);
    const program = `node ${quoteWord(fs.realpathSync(CLI))}`;
    const confirm = nextCommand(started.stdout);
    expect(confirm).toBe(`${program} confirm --db ${quoteWord(db)} ${runId} clearKmsdata --startup-disk ${sim.startupDisk}`);
    const status = (await runCli(['status', '--db', db], { env })).stdout;
    const commands = commandsIn(status, program).filter((p) => !p.mention).map((p) => p.command);
    expect(commands).toContain(`${program} history --db ${quoteWord(db)} ${runId}`);

    for (const entry of fs.readdirSync(sim.kmsdata)) fs.rmSync(path.join(sim.kmsdata, entry), { recursive: true });
    for (const command of [...commands, confirm]) expectWorked(await typed(command, { env }));
    expect(await statusOf(sim, expect, db)).toMatchObject({ situation: 'finished' });
  }, cliLimit(8));

  it('invoked through npx (npm_command=exec) the printed command is npx kms-recover, and works where npx was typed', async () => {
    const sim = await simFixture();
    const db = madeDb(sim);
    const npx = { npm_command: 'exec' };
    const started = await runCli(startWithDiskArgs(sim, ['--manual', 'clear'], db), { env: npx });
    expect(started.code, started.stderr).toBe(8);
    const { runId } = await statusOf(sim, expect, db);
    const confirm = nextCommand(started.stdout);
    expect(confirm).toBe(`npx kms-recover confirm --db ${quoteWord(db)} ${runId} clearKmsdata --startup-disk ${sim.startupDisk}`);
    const json = JSON.parse((await runCli(['status', '--json', '--db', db], { env: npx })).stdout) as { resumeCommand: string; waitingFor: { command: string } };
    expect(json.waitingFor.command).toBe(confirm);
    expect(json.resumeCommand).toBe(`npx kms-recover resume --db ${quoteWord(db)} ${runId} --startup-disk ${sim.startupDisk}`);

    // npx runs the clone's own kms-recover in the clone (offline: nothing is fetched).
    for (const entry of fs.readdirSync(sim.kmsdata)) fs.rmSync(path.join(sim.kmsdata, entry), { recursive: true });
    const ran = await typed(confirm, { cwd: REPO_ROOT, env: { npm_config_offline: 'true' } });
    expectWorked(ran);
    expect(ran.code, ran.stderr).toBe(0);
    expect(await statusOf(sim, expect, db)).toMatchObject({ situation: 'finished' });
  }, cliLimit(6));
});

describe('a screen narrower than its commands', () => {
  it('at 80 columns a command longer than the screen is printed whole on one line: each line pasted at a prompt, the confirm finishes the run', async () => {
    const sim = await simFixture();
    const db = madeDb(sim);
    const started = await runCli(startWithDiskArgs(sim, ['--manual', 'clear'], db), { env: { COLUMNS: '80' } });
    expect(started.code, started.stderr).toBe(8);
    const { runId } = await statusOf(sim, expect, db);
    const confirm = printedCommand(`kms-recover confirm ${runId} clearKmsdata --startup-disk ${sim.startupDisk}`, db);
    expect(confirm.length, 'the command is longer than the screen').toBeGreaterThan(80);
    // The lines of the screen from `Next:` on, as an administrator selects and pastes them.
    const lines = started.stdout.split('\n');
    const next = lines.findIndex((l) => l.startsWith('Next:'));
    expect(next, started.stdout).toBeGreaterThanOrEqual(0);
    const pasted = lines.slice(next).map((l) => l.replace(/^Next:/, '').trim()).filter((l) => l !== '');
    expect(pasted, started.stdout).toEqual([confirm]);
    for (const entry of fs.readdirSync(sim.kmsdata)) fs.rmSync(path.join(sim.kmsdata, entry), { recursive: true });
    const ran = await typed(pasted.join('\n'));
    expect(ran.code, `${ran.stdout}${ran.stderr}`).toBe(0);
    expect(await statusOf(sim, expect, db)).toMatchObject({ situation: 'finished' });
  }, cliLimit(4));
});

describe('the manual clear, as printed', () => {
  it('names the real folder, a refused confirm names what is left, and the printed confirm finishes the run', async () => {
    const sim = await simFixture();
    const started = await runCli(startWithDiskArgs(sim, ['--manual', 'clear']));
    expect(started.code).toBe(8);
    expect(started.stdout).toContain(`Go to the ${sim.kmsdata} directory and delete everything in it, files and folders`);
    expect(started.stdout).not.toContain('<path>');
    const command = nextCommand(started.stdout);
    const { runId } = await statusOf(sim);
    expect(command).toBe(printedCommand(`kms-recover confirm ${runId} clearKmsdata --startup-disk ${sim.startupDisk}`, sim.db));

    // Files deleted, a folder left: the refusal names it, once, and the run keeps waiting.
    for (const entry of fs.readdirSync(sim.kmsdata)) if (fs.statSync(path.join(sim.kmsdata, entry)).isFile()) fs.rmSync(path.join(sim.kmsdata, entry));
    fs.mkdirSync(path.join(sim.kmsdata, 'certs'), { recursive: true });
    const refused = await typed(command);
    expect(refused.code).toBe(8);
    expect(refused.stdout).toContain(`the step is not done yet: ${sim.kmsdata} still holds certs.`);
    expect(refused.stdout.match(/not done yet/g)).toHaveLength(1);
    expect(nextCommand(refused.stdout)).toBe(command);

    fs.rmSync(path.join(sim.kmsdata, 'certs'), { recursive: true });
    const done = await typed(command);
    expect(done.code, `${done.stdout}${done.stderr}`).toBe(0);
    expect(done.stdout).toContain('recovery complete');
    expect(done.stderr).not.toContain('top-level entries are kept');
    expect(await statusOf(sim)).toMatchObject({ situation: 'finished' });
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  }, cliLimit(4));

  it('a refusal of many entries names five and counts the rest', async () => {
    const sim = await simFixture();
    expect((await runCli(startWithDiskArgs(sim, ['--manual', 'clear']))).code).toBe(8);
    for (const name of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']) fs.writeFileSync(path.join(sim.kmsdata, name), '');
    const left = fs.readdirSync(sim.kmsdata).sort();
    const { runId } = await statusOf(sim);
    const refused = await runCli(['confirm', runId, 'clear', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(refused.code).toBe(8);
    expect(refused.stdout).toContain(`still holds ${left.length} entries: ${left.slice(0, 5).join(', ')} and ${left.length - 5} more.`);
  }, cliLimit(3));
});
