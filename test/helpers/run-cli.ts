import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCommands } from '../../cli/printed-commands.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(REPO_ROOT, 'dist/cli/index.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  /** A process of the simulated server's making (sim-fixture.ts), in cliLimit's base: not counted as the test's. */
  forFixture?: boolean;
}

let started = 0;

/** How many kms-recover processes this worker has started for tests (setup.ts holds each test to its cliLimit). */
export function cliProcessesStarted(): number {
  return started;
}

let stateHome: string | undefined;

/**
 * A state folder of this test process's own (removed at its exit): the default database place
 * of a CLI started without --db (KMS_RECOVER_HOME, set to XDG_STATE_HOME/kms-recover) is never
 * the machine's, root's /var/lib/kms-recover included. The tests of the default place itself
 * unset KMS_RECOVER_HOME and run as another user.
 */
export function testStateHome(): string {
  if (!stateHome) {
    const made = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-state-'));
    process.once('exit', () => fs.rmSync(made, { recursive: true, force: true }));
    stateHome = made;
  }
  return stateHome;
}

let binDir: string | undefined;

/**
 * A folder holding a `kms-recover` that is the built CLI, as `npm link` makes one (a link on
 * POSIX, a .cmd shim on Windows); removed at this test process's exit. First on every test
 * CLI's PATH, so the CLI prints `kms-recover …` commands, as after the README's set-up.
 */
export function kmsRecoverBinDir(): string {
  if (!binDir) {
    const made = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-bin-'));
    process.once('exit', () => fs.rmSync(made, { recursive: true, force: true }));
    if (process.platform === 'win32') fs.writeFileSync(path.join(made, 'kms-recover.cmd'), `@node "${CLI}" %*\r\n`);
    else fs.symlinkSync(CLI, path.join(made, 'kms-recover'));
    binDir = made;
  }
  return binDir;
}

/**
 * A command as the tests' CLI prints it: `kms-recover resume 1a2b` with `--db <db>` after its
 * name when the run's database was named by --db (cli/printed-commands.ts).
 */
export function printedCommand(text: string, db?: string): string {
  return renderCommands(text, { invocation: { kind: 'path' }, db: db === undefined ? null : path.resolve(db) });
}

/**
 * The width of the tests' screens: wide enough that no line wraps, so a test reads a sentence or
 * a command on one line. The layout at a terminal's width is screen-width.test.ts's, which sets
 * its own COLUMNS.
 */
export const UNWRAPPED_COLUMNS = '1000';

/**
 * The environment a test's CLI process gets: none of the operator's kms-recover variables, no
 * crash injection from the caller's shell, a state folder of the tests' own, unwrapped screens
 * (UNWRAPPED_COLUMNS), and the built CLI as `kms-recover` first on the PATH (not marked as
 * started by npx, even under `npx vitest`), unless given. KMS_RECOVER_DEBUG: an internal error
 * (exit 1, a bug) prints its stack on stderr, so a test that meets one once, under load, says where.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: testStateHome(), KMS_RECOVER_HOME: path.join(testStateHome(), 'kms-recover'), COLUMNS: UNWRAPPED_COLUMNS, KMS_RECOVER_DEBUG: '1' };
  // Windows spells it Path; a copy of process.env no longer ignores the case.
  const pathKey = Object.keys(env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  env[pathKey] = `${kmsRecoverBinDir()}${path.delimiter}${env[pathKey] ?? ''}`;
  delete env.npm_command;
  delete env.KMS_ALPHA_STRING;
  delete env.KMS_RECOVER_DB;
  delete env.KMS_RECOVER_FAIL_AT;
  delete env.KMS_RECOVER_DELAY_AT;
  delete env.KMS_RECOVER_STALL_AT;
  delete env.KMS_RECOVER_FAULT;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface SpawnedCli {
  child: ChildProcess;
  /** Settles when the process has ended and its output is read. */
  done: Promise<CliResult>;
  /** What it printed so far. */
  output: () => CliResult;
}

/**
 * The settle window of the tests' runs: a `start` (or `demo`) that does not name one gets
 * `--settle 0` (the KMS is still looked at once, and its database proved, before `running`),
 * so the suite does not wait 15 s per run. Tests of the window pass their own `--settle`.
 */
export function withTestSettle(args: readonly string[]): string[] {
  const command = args[0];
  if ((command !== 'start' && command !== 'demo') || args.includes('--settle') || args.includes('--help')) return [...args];
  return [...args, '--settle', '0'];
}

/** Starts the built kms-recover binary as a separate process; `done` settles when it ends. */
export function spawnCli(args: string[], options: CliOptions = {}): SpawnedCli {
  if (!options.forFixture) started += 1;
  const child = spawn(process.execPath, [CLI, ...withTestSettle(args)], { cwd: options.cwd ?? REPO_ROOT, env: cliEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  // The CLI may exit before it reads its input (EPIPE): what it printed is the result.
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(options.input ?? '');
  return { child, done, output: () => ({ code: child.exitCode, signal: child.signalCode, stdout, stderr }) };
}

/**
 * Resolves as soon as the process has printed something matching `pattern` on `stream` (what it
 * printed so far counts); rejects if it ends without.
 */
export function printed(spawned: SpawnedCli, pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<void> {
  return new Promise((resolve, reject) => {
    const source = spawned.child[stream]!;
    const check = () => {
      if (!pattern.test(spawned.output()[stream])) return false;
      source.off('data', onData);
      resolve();
      return true;
    };
    // Registered after spawnCli's own listener: by the time this runs, the chunk is in output().
    const onData = () => { check(); };
    if (check()) return;
    source.on('data', onData);
    spawned.done.then((result) => {
      if (!check()) reject(new Error(`the process ended (exit ${result.code ?? result.signal}) without printing ${pattern} on ${stream}:\n${result[stream]}`));
    }, reject);
  });
}

/** Runs the built kms-recover binary as a separate process, as an operator would. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, options).done;
}

export function parseJson<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  }
}
