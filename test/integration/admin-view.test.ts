import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../recovery/run-status.js';
import { eventRows } from '../helpers/event-rows.js';
import { CLI, cliEnv, parseJson, printed, printedCommand, runCli, spawnCli, withTestSettle, type SpawnedCli } from '../helpers/run-cli.js';
import { startArgs, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';
import { holdAt, type Hold } from '../helpers/hold.js';
import { cliLimit } from '../helpers/time-limit.js';
import { dbHas, until } from '../helpers/wait.js';

afterEach(cleanupSimFixtures);

/*
 * The administrator's view, through real processes: progress another console sees, `watch` of
 * a run driven by another process, signals with and without a terminal, one-line usage errors
 * and JSON errors, the manual start as one confirm, history in words.
 */

const hasScript = spawnSync('script', ['--version']).status === 0;

/**
 * The restore held after its third file until the test releases it: only the copy waits, the
 * driving process goes on (its heartbeat, its signal handlers), as on a slow disk.
 */
const restoreHeld = (sim: SimFixture): Hold => holdAt(sim, 'restore-after-file:3', 'stall');

/**
 * `status --json` (another process, as an administrator would use) while the driver is held in
 * its restore, which has written its progress to the database: the status must show it.
 */
async function statusWhileRestoring(sim: SimFixture, hold: Hold, driver: SpawnedCli): Promise<RunStatus> {
  await hold.reached(driver);
  await until('restore progress in the database', () =>
    dbHas(sim.db, "SELECT 1 FROM run_progress WHERE step = 'restoreKmsdata' AND files_done > 0"));
  const status = await statusOf(sim);
  expect(status.progress, 'status shows the restore under way').toMatchObject({ step: 'restoreKmsdata', filesDone: expect.any(Number) });
  expect(status.progress!.filesDone).toBeGreaterThan(0);
  return status;
}

describe('progress another console can see', () => {
  it('status --json shows the restore\'s files and bytes while another process drives it, and status says so in words', async () => {
    const sim = await simFixture(['--extra-files', '40', '--extra-bytes', '2000000']);
    const hold = restoreHeld(sim);
    const driver = spawnCli(startArgs(sim, ['--startup-disk', sim.startupDisk]), { env: hold.env });
    const during = await statusWhileRestoring(sim, hold, driver);
    expect(during).toMatchObject({ state: 'cleared', phase: 'working', situation: 'working', rests: false, driver: { kind: 'live', pid: driver.child.pid } });
    const backupFiles = eventRows(sim.db).find((e) => e.event === 'run.created')!.detail!.backupFiles;
    expect(during.progress).toMatchObject({ step: 'restoreKmsdata', attempt: 1, activity: 'copy', filesTotal: backupFiles });
    expect(during.progress!.filesDone).toBeLessThan(during.progress!.filesTotal);
    expect(during.progress!.bytesDone).toBeGreaterThan(0);
    expect(during.progress!.bytesTotal).toBeGreaterThan(during.progress!.bytesDone);

    const text = await runCli(['status', '--db', sim.db]);
    expect(text.stdout).toMatch(/^Progress: restoring from the backup: \d+ of \d+ files, /m);
    expect(text.stdout).toMatch(new RegExp(`^Driven by: pid ${driver.child.pid} on `, 'm'));
    expect(text.stdout).toContain(`follow it with ${printedCommand(`kms-recover watch ${during.runId}`, sim.db)}`);
    expect(text.stdout).not.toMatch(/nobody|is gone/);

    hold.release();
    expect((await driver.done).code).toBe(0);
    const after = await statusOf(sim);
    expect(after.situation).toBe('finished');
    expect(after.progress).toBeNull();
    // Every field scripts read is still there.
    for (const field of ['runId', 'state', 'phase', 'done', 'steps', 'history', 'lastError', 'next', 'lease', 'timer', 'attempts', 'drift', 'takeovers', 'elapsedMs', 'eventCount']) {
      expect(after).toHaveProperty(field);
    }
  }, cliLimit(4));

  it('without a terminal the driving process prints no live progress line', async () => {
    const sim = await simFixture(['--extra-files', '40', '--extra-bytes', '2000000']);
    const result = await runCli(startArgs(sim, ['--startup-disk', sim.startupDisk]));
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('\r');
    expect(result.stderr).not.toContain('restoring from the backup');
  }, cliLimit(1));
});

describe('kms-recover watch', () => {
  it('follows a run driven by another process until it rests, and ends as status does', async () => {
    const sim = await simFixture(['--extra-files', '40', '--extra-bytes', '2000000']);
    const hold = restoreHeld(sim);
    const driver = spawnCli(startArgs(sim, ['--startup-disk', sim.startupDisk]), { env: hold.env });
    // The run is driven (its driver holds the lease), held in its restore until watch has shown it.
    await hold.reached(driver);
    expect(dbHas(sim.db, 'SELECT 1 FROM leases')).toBe(true);
    expect((await statusOf(sim)).situation).toBe('working');
    const watching = spawnCli(['watch', '--db', sim.db]);
    await printed(watching, /^Progress: restoring from the backup: \d+ of \d+ files/m);
    hold.release();
    const watch = await watching.done;
    expect((await driver.done).code).toBe(0);
    expect(watch.code).toBe(0);
    expect(watch.stdout).toMatch(/\[>\] restored +KB 4 +working now/);
    expect(watch.stdout).toMatch(/^Progress: restoring from the backup: \d+ of \d+ files/m);
    const status = await runCli(['status', '--db', sim.db]);
    expect(watch.stdout.trim().split('\n').at(-1)).toBe(`Run ${(await statusOf(sim)).runId} is running: recovery complete: MSExchangeKMS has run for 0 s on the restored database.`);
    expect(status.code).toBe(watch.code);
    // Read only: watching wrote nothing (the event log is the driver's alone).
    expect(eventRows(sim.db).every((e) => e.event !== 'lease.taken-over')).toBe(true);
  }, cliLimit(5));

  it('--once ends at once with the one command when the run waits for you, exit 0 as status; --json prints the status', async () => {
    const sim = await simFixture();
    expect((await runCli(startArgs(sim, ['--manual', 'startService']))).code).toBe(8);
    const watch = await runCli(['watch', '--once', '--db', sim.db]);
    expect(watch.code).toBe((await runCli(['status', '--db', sim.db])).code);
    expect(watch.code).toBe(0);
    const { runId } = await statusOf(sim);
    expect(watch.stdout).toContain(`Next: ${printedCommand(`kms-recover confirm ${runId} startService`, sim.db)}`);
    const json = await runCli(['watch', '--once', '--json', '--db', sim.db]);
    expect(json.code).toBe(0);
    expect(parseJson<RunStatus>(json)).toMatchObject({ phase: 'waiting', situation: 'waiting' });
  }, cliLimit(5));

  it('ends with "interrupted" when the driver dies under it', async () => {
    const sim = await simFixture(['--extra-files', '40', '--extra-bytes', '2000000']);
    const hold = restoreHeld(sim); // never released: the driver dies there
    const driver = spawnCli(startArgs(sim, ['--startup-disk', sim.startupDisk]), { env: hold.env });
    await statusWhileRestoring(sim, hold, driver);
    const watch = spawnCli(['watch', '--db', sim.db]);
    // Its first screen (printed whole without a terminal) shows the run driven; then the driver dies.
    await printed(watch, /working now/);
    driver.child.kill('SIGKILL');
    const watched = await watch.done;
    expect(watched.code).toBe(0);
    expect((await statusOf(sim)).situation).toBe('interrupted');
    expect(watched.stdout).toMatch(/was interrupted during KB step 4 \(restoreKmsdata\): nothing is lost; run /);
    expect(watched.stdout).toContain(`nothing is lost; run ${printedCommand('kms-recover resume', sim.db)} `);
  }, cliLimit(4));
});

describe('signals during a run', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} without a terminal: says where, logs it, exits ${code}, releases the lease; resume needs no takeover`, async () => {
      const sim = await simFixture(['--extra-files', '40', '--extra-bytes', '2000000']);
      const hold = restoreHeld(sim);
      const driver = spawnCli(startArgs(sim, ['--startup-disk', sim.startupDisk]), { env: hold.env });
      const during = await statusWhileRestoring(sim, hold, driver);
      driver.child.kill(signal);
      // Once the process has taken the signal, the copy goes on to its next file, where it stops.
      await printed(driver, /stopping at the next safe point/, 'stderr');
      hold.release();
      const result = await driver.done;
      expect(result.code).toBe(code);
      expect(result.stderr).toContain(`kms-recover: interrupted during KB step 4 (restoreKmsdata): nothing is lost; run ${printedCommand(`kms-recover resume ${during.runId} --startup-disk ${sim.startupDisk}`, sim.db)}\n`);
      const log = fs.readFileSync(sim.log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(log.find((l) => l.msg === 'interrupted')).toMatchObject({ level: 'warn', signal, runId: during.runId, step: 'restoreKmsdata' });

      const after = await statusOf(sim);
      expect(after).toMatchObject({ situation: 'interrupted', phase: 'working', lease: null, driver: { kind: 'nobody' } });
      const text = await runCli(['status', '--db', sim.db]);
      expect(text.stdout).toMatch(/^Driven by: nobody$/m);
      expect(text.stdout).not.toMatch(/is driving|wait for it|Deadline:/);
      expect(text.stdout.trimEnd().split('\n').at(-1)).toBe(`Run ${during.runId} was interrupted during KB step 4 (restoreKmsdata): nothing is lost; run ${printedCommand(`kms-recover resume ${during.runId} --startup-disk ${sim.startupDisk}`, sim.db)}`);

      const resumed = await runCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk]);
      expect(resumed.code).toBe(0);
      expect(resumed.stderr).not.toContain('took the run over');
      expect(eventRows(sim.db).some((e) => e.event === 'lease.taken-over')).toBe(false);
      expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
    }, cliLimit(5));
  }

  describe.runIf(hasScript)('on a real terminal', () => {
    interface Terminal {
      /** Everything the terminal showed so far. */
      screen: () => string;
      /** Resolves once the screen shows `pattern`; rejects if the process ends first. */
      shows: (pattern: RegExp) => Promise<void>;
      /** Types on the terminal (Ctrl-C: the line discipline sends SIGINT to the foreground process). */
      type: (keys: string) => void;
      /** The exit status, once the process has ended. */
      done: Promise<number | null>;
    }

    /** The CLI on a pseudo-terminal (`script`). */
    function onTerminal(args: string[], env: Record<string, string>): Terminal {
      const command = [process.execPath, CLI, ...withTestSettle(args)].map((a) => `'${a}'`).join(' ');
      const child = spawn('script', ['-qec', command, '--echo', 'never', '/dev/null'], { env: cliEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
      let screen = '';
      const waiting = new Set<() => void>();
      child.stdout.on('data', (d: Buffer) => {
        screen += d.toString();
        for (const check of [...waiting]) check();
      });
      const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const shows = (pattern: RegExp) => new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(screen)) return;
          waiting.delete(check);
          resolve();
        };
        waiting.add(check);
        check();
        void done.then((code) => {
          if (!waiting.has(check)) return;
          waiting.delete(check);
          reject(new Error(`the terminal ended (exit ${code}) without showing ${pattern}:\n${screen}`));
        });
      });
      return { screen: () => screen, shows, type: (keys) => child.stdin.write(keys), done };
    }

    it('Ctrl-C during the restore: the interrupted line, exit 130, and the run resumes', async () => {
      const sim = await simFixture(['--extra-files', '40', '--extra-bytes', '2000000']);
      const hold = restoreHeld(sim);
      const terminal = onTerminal(startArgs(sim, ['--startup-disk', sim.startupDisk]), hold.env);
      await hold.reached();
      terminal.type('\u0003');
      // Taken: the copy stops at its next file once it goes on.
      await terminal.shows(/Ctrl-C: stopping at the next safe point/);
      hold.release();
      expect(await terminal.done).toBe(130);
      expect(terminal.screen()).toMatch(/kms-recover: interrupted during KB step 4 \(restoreKmsdata\): nothing is lost; run /);
      expect(terminal.screen()).toContain(`nothing is lost; run ${printedCommand('kms-recover resume', sim.db)} `);
      expect((await statusOf(sim)).situation).toBe('interrupted');
      expect((await runCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk])).code).toBe(0);
    }, cliLimit(3));

    it('a second Ctrl-C forces the process to end', async () => {
      const sim = await simFixture(['--extra-files', '40', '--extra-bytes', '2000000']);
      // After file 3 the copy waits, never released, and heeds no abort (an OS call that cannot
      // be cancelled): the first Ctrl-C ends the drive but the stalled work holds the process; the second forces it.
      const hold = restoreHeld(sim);
      const terminal = onTerminal(startArgs(sim, ['--startup-disk', sim.startupDisk]), hold.env);
      await hold.reached();
      terminal.type('\u0003');
      await terminal.shows(/interrupted during KB step 4 \(restoreKmsdata\)/);
      expect(hold.held(), 'the copy still waits').toBe(true);
      terminal.type('\u0003');
      expect(await terminal.done).toBe(130);
      expect(terminal.screen()).toContain('forced to stop');
      hold.release();
      expect((await runCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk])).code).toBe(0);
    }, cliLimit(2));

    it('on a terminal the driving process shows a live progress line with rate and time left', async () => {
      // A restore that lasts (a slow disk: the copy waits after its third file), not one of
      // hundreds of MB: the line is drawn with the rate measured so far.
      const sim = await simFixture(['--extra-files', '40', '--extra-bytes', '2000000']);
      const hold = restoreHeld(sim);
      const terminal = onTerminal(startArgs(sim, ['--startup-disk', sim.startupDisk]), hold.env);
      await hold.reached();
      await terminal.shows(/[\d.]+ [KMG]B\/s/);
      hold.release();
      expect(await terminal.done).toBe(0);
      expect(terminal.screen()).toMatch(/\r\u001b\[K {6}restoring from the backup: \d+ of \d+ files, [\d.]+ [KMG]?B of [\d.]+ [KMG]?B/);
      expect(terminal.screen()).toMatch(/[\d.]+ [KMG]B\/s(, about .+ left)?/);
    }, cliLimit(1));
  });
});

describe('usage errors and JSON errors', () => {
  it('a missing option is one line naming the command\'s help, exit 2', async () => {
    const result = await runCli(['start', '--db', '/nonexistent/x.db']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("kms-recover: required option '--kmsdata <dir>' not specified; see kms-recover start --help\n");
    expect(result.stdout).toBe('');
  }, cliLimit(1));

  it('with --json every error is the JSON error object on stdout, usage errors included', async () => {
    const sim = await simFixture();
    for (const [args, code, message] of [
      [['status', '--json', '--bogus', '--db', sim.db], 2, /^unknown option '--bogus'; see kms-recover status --help$/],
      [['status', 'not-a-run', '--json', '--db', sim.db], 2, /^a run id is 1 to 8 hex characters .*; see kms-recover status --help$/],
      [['confirm', '--json', '--db', sim.db], 2, /^missing required argument 'run-id'; see kms-recover confirm --help$/],
      [['status', '--json', '--db', sim.db], 7, /^no kms-recover database at /],
    ] as const) {
      const result = await runCli([...args]);
      expect(result.code, args.join(' ')).toBe(code);
      const { error } = parseJson<{ error: { code: string; message: string } }>(result);
      expect(error.message).toMatch(message);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  }, cliLimit(4));

  it('an unknown command and a bad choice are one line too', async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2, stderr: "kms-recover: unknown command 'frobnicate'; see kms-recover --help\n" });
    const choice = await runCli(['diagram', '--format', 'png']);
    expect(choice.code).toBe(2);
    expect(choice.stderr).toMatch(/^kms-recover: option '--format <format>' argument 'png' is invalid\. Allowed choices are text, mermaid, dot, svg; see kms-recover diagram --help\n$/);
  }, cliLimit(2));
});

describe('a manual start is waiting for you, and one confirm', () => {
  it('waits (phase waiting, exit 8), says the KB once and one command; one confirm of startService covers the alpha string too', async () => {
    const sim = await simFixture();
    const started = await runCli(startArgs(sim, ['--manual', 'startService']));
    expect(started.code).toBe(8);
    const status = await statusOf(sim);
    expect(status).toMatchObject({
      state: 'restored', phase: 'waiting', situation: 'waiting', lastError: { code: 'MANUAL_STEP_PENDING', step: 'setCredential' },
      waitingFor: { kbSteps: '5-7', confirm: 'startService', command: printedCommand(`kms-recover confirm ${status.runId} startService`, sim.db) },
    });
    const text = await runCli(['status', '--db', sim.db]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/\[\?\] credential-set +KB 5-6 +waiting for you/);
    expect(text.stdout.match(/type in the alpha string/g)).toHaveLength(1);
    expect(text.stdout.split('\n')).toContain(`Next: ${printedCommand(`kms-recover confirm ${status.runId} startService`, sim.db)}`);
    expect(text.stdout).not.toMatch(/failed|Last error/);
    expect(started.stdout.match(/type in the alpha string/g)).toHaveLength(1);
    expect(started.stderr).not.toContain('type in the alpha string');

    expect((await runCli(['sim', 'start', sim.root, '--startup-disk', sim.startupDisk])).code).toBe(0);
    const confirmed = await runCli(['confirm', status.runId, 'startService', '--db', sim.db]);
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toContain('recovery complete');
    // One confirm, a transition of the machine: it covers the alpha string and the start.
    const confirms = eventRows(sim.db).filter((e) => e.event === 'CONFIRM').map((e) => e.detail?.confirmed);
    expect(confirms).toEqual([{ step: 'startService', covers: ['setCredential', 'startService'] }]);
  }, cliLimit(5));
});

describe('history and logs for people', () => {
  it('history in words with local times, the offset said once (--utc: UTC); --json keeps the raw events; the log has ISO times and level names', async () => {
    const sim = await simFixture();
    expect((await runCli(startArgs(sim, ['--startup-disk', sim.startupDisk]))).code).toBe(0);
    const { runId } = await statusOf(sim);
    const files = eventRows(sim.db).find((e) => e.event === 'run.created')!.detail!.backupFiles;
    const text = await runCli(['history', runId, '--db', sim.db], { env: { TZ: 'Asia/Kolkata' } });
    expect(text.stdout).toContain(`restore finished: ${files} files, verified`);
    expect(text.stdout).not.toMatch(/xstate\.|facts=|\{"/);
    expect(text.stdout.split('\n')[0]).toMatch(/; times are local, UTC\+05:30$/);
    expect(text.stdout.match(/UTC/g)).toHaveLength(1);
    const created = eventRows(sim.db).find((e) => e.event === 'run.created')!.at;
    const local = new Date(Date.parse(created) + 330 * 60_000).toISOString().slice(0, 19).replace('T', ' ');
    expect(text.stdout).toMatch(new RegExp(`^1 +${local} +-> reinstalled `, 'm'));
    const utc = await runCli(['history', runId, '--utc', '--db', sim.db], { env: { TZ: 'Asia/Kolkata' } });
    expect(utc.stdout.split('\n')[0]).toMatch(/; times are UTC$/);
    expect(utc.stdout).toMatch(new RegExp(`^1 +${created.slice(0, 19).replace('T', ' ')} +-> reinstalled `, 'm'));
    const json = parseJson<{ events: { event: string; at: string }[] }>(await runCli(['history', runId, '--json', '--db', sim.db]));
    expect(json.events.map((e) => e.event)).toContain('xstate.done.actor.restoreKmsdata');
    expect(json.events[0]!.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const log = fs.readFileSync(sim.log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { time: unknown; level: unknown });
    expect(log.length).toBeGreaterThan(3);
    for (const line of log) {
      expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(['info', 'warn', 'error']).toContain(line.level);
    }
    const status = await runCli(['status', '--db', sim.db]);
    expect(status.stdout).toContain(`Log:     ${sim.log};`);
  }, cliLimit(6));
});

describe('wording that agrees', () => {
  it('the dry run and the run count the same top-level entries; the credential line says only where the alpha string came from', async () => {
    const sim = await simFixture();
    const dry = await runCli(startArgs(sim, ['--startup-disk', sim.startupDisk, '--dry-run']));
    const planned = Number(/moves the (\d+) top-level entries/.exec(dry.stdout)?.[1]);
    const run = await runCli(startArgs(sim, ['--startup-disk', sim.startupDisk]));
    expect(run.stderr).toContain(`its ${planned} top-level entries are kept in a quarantine folder`);
    expect(run.stderr).toContain('the alpha string read from the startup disk (Kmspwd.ini) is given as start parameter');
    expect(run.stderr).not.toContain('of the original KMS');
  }, cliLimit(2));

  it('resume --from lists the steps with the run\'s real Kmsdata folder', async () => {
    const sim = await simFixture();
    expect((await runCli(startArgs(sim, ['--manual', 'startService']))).code).toBe(8);
    const back = await runCli(['resume', '--from', 'stopped', '--db', sim.db]);
    expect(back.stderr).toContain(`go to the ${sim.kmsdata} directory, and delete all files`);
    expect(back.stderr).not.toContain('<path>');
  }, cliLimit(2));
});
