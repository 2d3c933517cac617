/**
 * The simulated Key Management Server: a real process the simulated service manager spawns
 * from the compiled file `dist/host/sim/kms-daemon.js`.
 *
 *   node kms-daemon.js --kmsdata <dir> --log <file>
 *
 * The alpha string arrives as the first line of STDIN (never argv, never env) and is written
 * nowhere. The daemon checks it against `kmscheck.dat`, opens `kmsdata.edb` and keeps that file
 * descriptor open while it runs (the "lock" Windows would enforce), reports one JSON line on
 * stdout, and lives until SIGTERM/SIGINT.
 *
 * A hung KMS, for the tests: while the file `kms-daemon.hang-stop` exists beside the log, a stop
 * request is acknowledged and not carried out (the daemon stays up with the database open, as a
 * Windows service stuck in STOP_PENDING); removing the file lets the stop finish.
 *
 * A KMS that fails late, for the tests: while the file `kms-daemon.fail-after` beside the log
 * holds a number N, the daemon reports RUNNING whatever alpha string it was given, then, N
 * seconds after its start, logs an `ERROR:` line (the alpha string does not match the database,
 * or the database could not be used), lets go of the database and stops with service specific
 * error 1 (WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE 1), as KB Q151689 describes.
 *
 * What it reports of itself (its pid, the kmsId of the database it opened, how it ended) goes to
 * `kms-daemon.state.json` beside the log, written atomically: the service manager reads it. A
 * refused start is written there too (`refused`: its code and message) before it is reported on
 * stdout and the daemon exits, so the manager has the reason even when it reads no line (it met
 * its deadline first under load, or the process ended before its pipe was read).
 */
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alphaMatches, parseKmsCheck } from './kms-check.js';
import { DAEMON_STATE_FILE, FAIL_AFTER_FILE, HANG_STOP_FILE } from './sim-layout.js';

/** Service specific error 1: WIN32_EXIT_CODE 1066 (ERROR_SERVICE_SPECIFIC_ERROR), SERVICE_EXIT_CODE 1. */
const SERVICE_SPECIFIC_ERROR_1 = { win32ExitCode: 1066, serviceExitCode: 1 } as const;

/** The daemon's report of itself, for the service manager (no secret in it). */
function writeState(file: string, state: object): void {
  try {
    writeFileSync(`${file}.tmp`, `${JSON.stringify(state)}\n`);
    renameSync(`${file}.tmp`, file);
  } catch {
    // A report that cannot be written must not take the KMS down.
  }
}

/** N from `kms-daemon.fail-after` (seconds, more than 0), or undefined when the file is absent or holds no such number. */
function failAfterSeconds(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

type FailCode = 'ALPHA_REJECTED' | 'SERVICE_START_FAILED';

const MAX_STDIN_BYTES = 4096;

function parseArgs(argv: readonly string[]): { kmsdata: string; log: string } | undefined {
  let kmsdata: string | undefined;
  let log: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--kmsdata' && value !== undefined) { kmsdata = value; i++; }
    else if (arg === '--log' && value !== undefined) { log = value; i++; }
    else return undefined;
  }
  return kmsdata && log ? { kmsdata: path.resolve(kmsdata), log: path.resolve(log) } : undefined;
}

function makeLogger(file: string | undefined): (message: string) => void {
  return (message) => {
    if (!file) return;
    try {
      appendFileSync(file, `${new Date().toISOString()} [${process.pid}] ${message}\n`, 'utf8');
    } catch {
      // A log that cannot be written must not take the KMS down.
    }
  };
}

/** Read the first line of stdin (up to MAX_STDIN_BYTES), then stop reading. */
function readFirstLine(): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      process.stdin.removeAllListeners('data');
      process.stdin.pause();
      process.stdin.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      const newline = text.indexOf('\n');
      resolve((newline >= 0 ? text.slice(0, newline) : text).replace(/\r$/, ''));
    };
    process.stdin.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (chunk.includes(0x0a) || size >= MAX_STDIN_BYTES) finish();
    });
    process.stdin.on('end', finish);
    process.stdin.on('error', finish);
  });
}

function report(line: object): Promise<void> {
  return new Promise((resolve) => {
    process.stdout.write(`${JSON.stringify(line)}\n`, () => resolve());
  });
}

/** The state file beside the log (`--log`), where the manager looks for how this daemon ended. */
function stateFileOf(log: string): string {
  return path.join(path.dirname(log), DAEMON_STATE_FILE);
}

/** A refused start: written to the state file, then reported on stdout, then the exit. */
async function fail(log: (m: string) => void, code: FailCode, message: string, stateFile?: string): Promise<never> {
  log(`start failed (${code}): ${message}`);
  if (stateFile) writeState(stateFile, { pid: process.pid, stoppedAt: new Date().toISOString(), refused: { code, message } });
  await report({ ok: false, code, message });
  process.exit(1);
}

async function main(): Promise<void> {
  // The service manager drops our stdout once we reported; later writes must not crash us.
  process.stdout.on('error', () => undefined);

  const args = parseArgs(process.argv.slice(2));
  const log = makeLogger(args?.log);
  if (!args) {
    await fail(log, 'SERVICE_START_FAILED', 'usage: kms-daemon --kmsdata <dir> --log <file>');
    return;
  }
  const { kmsdata } = args;
  const stateFile = stateFileOf(args.log);
  log(`starting with Kmsdata ${kmsdata}`);

  const alpha = await readFirstLine();
  if (!alpha) {
    await fail(log, 'SERVICE_START_FAILED', 'the KMS needs its alpha string as start parameter', stateFile);
    return;
  }

  const check = readKmsCheck(kmsdata);
  if (!check) {
    await fail(log, 'SERVICE_START_FAILED', `KMS database not found in ${kmsdata}`, stateFile);
    return;
  }
  const scm = path.dirname(args.log);
  const failAfter = failAfterSeconds(path.join(scm, FAIL_AFTER_FILE));
  const alphaOk = alphaMatches(check, alpha);
  if (!alphaOk && failAfter === undefined) {
    await fail(log, 'ALPHA_REJECTED',
      `the Key Management Server did not start: the alpha string does not match the KMS database in ${kmsdata}`, stateFile);
    return;
  }

  let fd: number;
  try {
    fd = openSync(path.join(kmsdata, 'kmsdata.edb'), 'r+');
  } catch {
    await fail(log, 'SERVICE_START_FAILED', `KMS database not found in ${kmsdata}`, stateFile);
    return;
  }

  const startedAt = new Date().toISOString();
  const hangFile = path.join(scm, HANG_STOP_FILE);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`stopping on ${signal}`);
    if (existsSync(hangFile)) {
      log(`${HANG_STOP_FILE} present: hanging in stop until it is removed`);
      const wait = setInterval(() => {
        if (existsSync(hangFile)) return;
        clearInterval(wait);
        finish();
      }, 50);
      return;
    }
    finish();
  };
  const finish = (): void => {
    try { closeSync(fd); } catch { /* already closed */ }
    writeState(stateFile, { pid: process.pid, kmsId: check.kmsId, startedAt, stoppedAt: new Date().toISOString(), exit: { win32ExitCode: 0, serviceExitCode: 0 } });
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  setInterval(() => undefined, 60_000);

  writeState(stateFile, { pid: process.pid, kmsId: check.kmsId, startedAt });
  if (failAfter !== undefined) {
    log(`${FAIL_AFTER_FILE} present: running, and stopping by itself after ${failAfter} s`);
    setTimeout(() => {
      if (stopping) return;
      stopping = true;
      log(`ERROR: ${alphaOk
        ? `the KMS database in ${kmsdata} could not be used`
        : `the alpha string does not match the KMS database in ${kmsdata}`}; stopping with service specific error 1`);
      try { closeSync(fd); } catch { /* already closed */ }
      writeState(stateFile, { pid: process.pid, kmsId: check.kmsId, startedAt, stoppedAt: new Date().toISOString(), exit: SERVICE_SPECIFIC_ERROR_1 });
      process.exit(1);
    }, failAfter * 1000);
    log(`database open for KMS ${check.kmsId}; running`);
  } else {
    log(`alpha string verified for KMS ${check.kmsId}; database open; running`);
  }
  await report({ ok: true, pid: process.pid });
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const log = parseArgs(process.argv.slice(2))?.log;
  makeLogger(log)(`internal error: ${message}`);
  if (log) writeState(stateFileOf(log), { pid: process.pid, stoppedAt: new Date().toISOString(), refused: { code: 'SERVICE_START_FAILED', message } });
  process.stdout.write(`${JSON.stringify({ ok: false, code: 'SERVICE_START_FAILED', message })}\n`, () => process.exit(1));
});

/** The salted check of the alpha string in this Kmsdata; undefined if absent or unreadable. */
function readKmsCheck(kmsdata: string): ReturnType<typeof parseKmsCheck> {
  try {
    return parseKmsCheck(readFileSync(path.join(kmsdata, 'kmscheck.dat'), 'utf8'));
  } catch {
    return undefined;
  }
}
