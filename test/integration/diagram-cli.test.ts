import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import DIAGRAM_OUTPUTS from '../../diagrams/outputs.json' with { type: 'json' };
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../persistence/index.js';
import type { RunStatus } from '../../recovery/run-status.js';
import { SIX_STATES } from '../helpers/event-log.js';
import { parseJson, printedCommand, REPO_ROOT, runCli } from '../helpers/run-cli.js';
import { startArgs, startWithDiskArgs, statusOf, wrongAlpha } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, disposeSimFixture, sharedSimFixture, simFixture, type SimFixture } from '../helpers/sim-fixture.js';
import { parseSvg } from '../helpers/svg.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);
/** What scripts/diagrams.mjs writes: the overview, and the full machine (`--detail`). */
const COMMITTED: readonly { format: string; file: string; args: readonly string[] }[] = DIAGRAM_OUTPUTS;
const committed = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kms-diagram-'));
}

/** A run refused at KB step 7: a well-formed (14 characters) but wrong alpha string. */
async function failedRun(sim: SimFixture): Promise<string> {
  const result = await runCli(startArgs(sim), { env: { KMS_ALPHA_STRING: wrongAlpha(sim) } });
  expect(result.code, result.stderr).toBe(4);
  return (await statusOf(sim)).runId;
}

/**
 * One failed run, shared by the tests that only read it: diagram, history and status never
 * write (read-commands.test.ts proves it), so each of them sees the run as failedRun left it.
 */
let failedSim: SimFixture | undefined;
let failed: { sim: SimFixture; runId: string };
beforeAll(async () => {
  failedSim = await sharedSimFixture();
  failed = { sim: failedSim, runId: await failedRun(failedSim) };
}, cliLimit(2));
afterAll(async () => {
  if (failedSim) await disposeSimFixture(failedSim);
});

describe('the committed diagrams', () => {
  it('are exactly what the machine generates now (npm run diagrams regenerates them)', async () => {
    const dir = tmpDir();
    try {
      for (const { format, file, args } of COMMITTED) {
        const out = path.join(dir, path.basename(file));
        const result = await runCli(['diagram', '--format', format, '--no-run', ...args, '-o', out], { cwd: dir });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toBe('');
        const committedFile = path.join(REPO_ROOT, file);
        expect(fs.existsSync(committedFile), `${file} is missing: run npm run diagrams`).toBe(true);
        expect(fs.readFileSync(out).equals(fs.readFileSync(committedFile)), `${file} differs from the machine: run npm run diagrams`).toBe(true);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, cliLimit(6));

  it('the README shows the committed overview inline and says where the full machine is', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const mermaid = committed('diagrams/recovery.mmd');
    expect(readme.includes(`\`\`\`mermaid\n${mermaid}\`\`\`\n`), 'README.md\'s state diagram differs from diagrams/recovery.mmd: run npm run diagrams').toBe(true);
    expect(mermaid).not.toContain('xstate.');
    expect(readme).toContain('recovery-detail.svg');
    expect(readme).toContain('kms-recover diagram --detail');
    for (const image of readme.matchAll(/!\[[^\]]*\]\((diagrams\/[^)]+)\)/g)) expect(fs.existsSync(path.join(REPO_ROOT, image[1]!)), image[1]).toBe(true);
  });

  it('stdout and -o give the same bytes; --no-run, and --detail without --run, ignore the database', async () => {
    const { sim, runId } = failed;
    for (const { format, file, args } of COMMITTED.filter((c) => c.format !== 'svg')) {
      const withoutRun = await runCli(['diagram', '--format', format, ...args, ...(args.length ? [] : ['--no-run'])], { env: { KMS_RECOVER_DB: sim.db } });
      expect(withoutRun.code, withoutRun.stderr).toBe(0);
      expect(withoutRun.stdout).toBe(committed(file));
    }
    // The overview shows the latest run of the database in every format.
    const latest = await runCli(['diagram', '--format', 'mermaid'], { env: { KMS_RECOVER_DB: sim.db } });
    expect(latest.stdout).toContain(`Run ${runId}: KB steps 5-6 failed: the alpha string was refused (ALPHA_REJECTED) when the service was started`);
  }, cliLimit(5));
});

/** The overview's state rows of the terminal view: [mark, KB label, state, words]. */
function overviewRows(text: string): string[][] {
  return text.split('\n').filter((l) => /^ {2}(\[.\]| o ) KB /.test(l)).map((l) => [l.slice(2, 5), ...l.slice(6).trim().split(/\s{2,}/)]);
}

describe('kms-recover diagram', () => {
  it('prints the overview by default, without a run when there is no database', async () => {
    const dir = tmpDir();
    try {
      const result = await runCli(['diagram'], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^Recovery of an Exchange 5\.5 Key Management Server \(Microsoft KB Q198814\)\nNo run shown/);
      expect(overviewRows(result.stdout).map((r) => r.slice(0, 3))).toEqual([
        [' o ', 'KB step 1', 'reinstalled'], [' o ', 'KB step 2', 'stopped'], [' o ', 'KB step 3', 'cleared'],
        [' o ', 'KB step 4', 'restored'], [' o ', 'KB steps 5-6', 'credential-set'], [' o ', 'KB step 7', 'running'],
      ]);
      expect(result.stdout).toContain('     |  KB step 2: stop the Exchange Key Management Server service\n');
      expect(result.stdout).toContain('kms-recover diagram --detail');
      expect(result.stdout).not.toMatch(/xstate\.|RETRY|REWIND|\.working|\.failed/);
      expect(fs.readdirSync(dir)).toEqual([]); // no database created
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, cliLimit(1));

  it('--detail prints the full state chain with its substates, events and guards', async () => {
    const dir = tmpDir();
    try {
      const result = await runCli(['diagram', '--detail'], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^State machine "recovery" \(machine v\d+, definition [0-9a-f]{16}\): 6 states, final: running\n/);
      expect(result.stdout).toContain('No run shown');
      const chain = result.stdout.split('\n').filter((l) => /^\s{2}( o |\[.\]) /.test(l)).map((l) => l.slice(6).split(/\s+/)[0]);
      expect(chain).toEqual(SIX_STATES);
      expect(result.stdout).toContain('done [serviceIsStopped] -> stopped');
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, cliLimit(1));

  it('--detail marks a failed run in every format: the terminal, Mermaid, DOT and SVG', async () => {
    const { sim, runId } = failed;

    const text = await runCli(['diagram', '--detail', '--db', sim.db]); // the latest run, without --run
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Run ${runId}: restored, step startService failed: the alpha string was refused (ALPHA_REJECTED)`);
    expect(text.stdout).toMatch(new RegExp(`\\[!\\] restored .*<== run ${runId} is here: restored\\.failed, the alpha string was refused \\(ALPHA_REJECTED\\)`));
    expect(text.stdout).toMatch(/\[x\] cleared /);
    expect(text.stdout).toMatch(/\[ \] running /);

    const mermaid = await runCli(['diagram', '--detail', '--format', 'mermaid', '--run', runId.slice(0, 5), '--db', sim.db]);
    expect(mermaid.code, mermaid.stderr).toBe(0);
    expect(mermaid.stdout).toContain(`run ${runId}: restored, step startService failed: the alpha string was refused (ALPHA_REJECTED)`);
    expect(mermaid.stdout).toContain('    class restored_failed failed\n');
    expect(mermaid.stdout).toContain('    class reinstalled_working,stopped_working,cleared_working,restored_working,credential_set_working visited\n');

    const dot = await runCli(['diagram', '--detail', '--format', 'dot', '--run', runId, '--db', sim.db]);
    expect(dot.code, dot.stderr).toBe(0);
    expect(dot.stdout).toMatch(/"restored\.failed" \[label="failed", style="rounded,filled,bold", fillcolor="#f9d0d0"/);

    const out = path.join(sim.dir, 'run-detail.svg');
    const svg = await runCli(['diagram', '--detail', '--format', 'svg', '--run', runId, '--db', sim.db, '-o', out]);
    expect(svg.code, svg.stderr).toBe(0);
    const words = Array.from(parseSvg(fs.readFileSync(out, 'utf8')).getElementsByTagName('text')).map((t) => t.textContent);
    expect(words).toContain(`run ${runId}: restored, step startService failed: the alpha string was refused (ALPHA_REJECTED)`);
    for (const state of SIX_STATES) expect(words.some((w) => w?.startsWith(state)), state).toBe(true);
    expect(words.filter((w) => w === 'RETRY')).toHaveLength(5);
  }, cliLimit(4));

  it('the overview marks a failed run in every format, from the latest run of the database', async () => {
    const { sim, runId } = failed;
    const headline = `Run ${runId}: KB steps 5-6 failed: the alpha string was refused (ALPHA_REJECTED) when the service was started`;

    const text = await runCli(['diagram', '--db', sim.db]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split('\n')[1]).toBe(headline);
    // The next action is status's own (recovery/run-situation.ts): the advice of ALPHA_REJECTED, naming resume.
    expect(text.stdout.split('\n')[2]).toMatch(/^Next: /);
    expect(text.stdout.split('\n')[2]).toContain(printedCommand(`kms-recover resume ${runId}`, sim.db));
    const rows = overviewRows(text.stdout);
    expect(rows.map((r) => r[0])).toEqual(['[x]', '[x]', '[x]', '[x]', '[!]', '[ ]']);
    expect(rows[4]).toEqual(['[!]', 'KB steps 5-6', 'credential-set', 'failed: the alpha string was refused (ALPHA_REJECTED) when the service was started']);
    expect(rows[3]![3]).toMatch(/^done \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, took (less than a second|\d)/);
    expect(text.stdout.replace(/\n {5}\| {2}/g, ' ')).toContain(`KB step 3: go to the ${sim.kmsdata} directory, and delete all files`);
    expect(text.stdout).toMatch(/^Legend: \[x\] done {3}\[>\] working now {3}\[~\] interrupted: nobody is running it {3}\[\?\] waiting for you {3}\[!\] failed {3}\[ \] not yet$/m);

    const mermaid = await runCli(['diagram', '--format', 'mermaid', '--db', sim.db]);
    expect(mermaid.stdout).toContain(headline);
    expect(mermaid.stdout).toContain('    class credential_set,legendFailed failed\n');
    expect(mermaid.stdout).toContain('    credential_set : failed: the alpha string was refused (ALPHA_REJECTED) when the service was started\n');

    const dot = await runCli(['diagram', '--format', 'dot', '--run', runId.slice(0, 4), '--db', sim.db]);
    expect(dot.stdout).toMatch(/"credential-set" \[label=<.*failed: the alpha string was refused \(ALPHA_REJECTED\).*>, style="rounded,filled", fillcolor="#f9d0d0", color="#c62828", penwidth=3\];/);

    const out = path.join(sim.dir, 'run.svg');
    const svg = await runCli(['diagram', '--format', 'svg', '--db', sim.db, '-o', out]);
    expect(svg.code, svg.stderr).toBe(0);
    const doc = parseSvg(fs.readFileSync(out, 'utf8'));
    const words = Array.from(doc.getElementsByTagName('text')).map((t) => t.textContent ?? '');
    expect(words).toContain(headline);
    expect(words.join(' ')).toContain('failed: the alpha string was refused (ALPHA_REJECTED)');
    for (const legend of ['done', 'working now', 'interrupted: nobody is running it', 'waiting for you', 'failed', 'not yet']) expect(words).toContain(legend);
    const root = doc.documentElement!;
    expect(Number.parseFloat(root.getAttribute('width')!) * 96 / 72).toBeLessThanOrEqual(1600);
    expect(Number.parseFloat(root.getAttribute('height')!) * 96 / 72).toBeLessThanOrEqual(1000);
    expect(fs.readFileSync(out, 'utf8')).not.toMatch(/xstate\.|RETRY|REWIND|__initial/);
  }, cliLimit(4));

  it('the overview tells an interrupted run (its driver killed) from a manual step waiting for the operator', async () => {
    const killed = await simFixture();
    const interrupted = await runCli(startWithDiskArgs(killed), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' } });
    expect(interrupted.signal).toBe('SIGKILL');
    const { runId, next } = await statusOf(killed);
    expect(next).toContain(`run ${printedCommand(`kms-recover resume ${runId}`, killed.db)}`);
    const text = await runCli(['diagram', '--db', killed.db]);
    expect(text.stdout.split('\n').slice(1, 3)).toEqual([`Run ${runId}: interrupted during KB step 4, nothing is lost`, `Next: ${next}`]);
    expect(overviewRows(text.stdout).map((r) => r[0])).toEqual(['[x]', '[x]', '[x]', '[~]', '[ ]', '[ ]']);
    expect(overviewRows(text.stdout)[3]).toEqual(['[~]', 'KB step 4', 'restored', 'interrupted: nobody is running it']);

    const manual = await simFixture();
    const waiting = await runCli(startWithDiskArgs(manual, ['--manual', 'restore']));
    expect(waiting.code, waiting.stderr).toBe(8);
    const { runId: manualId, next: manualNext } = await statusOf(manual);
    expect(manualNext!.endsWith(`When it is done, run: ${printedCommand(`kms-recover confirm ${manualId} restoreKmsdata --startup-disk ${manual.startupDisk}`, manual.db)}`), manualNext!).toBe(true);
    const view = await runCli(['diagram', '--db', manual.db]);
    expect(view.stdout.split('\n').slice(1, 3)).toEqual([`Run ${manualId}: waiting for you to do KB step 4 by hand`, `Next: ${manualNext}`]);
    expect(overviewRows(view.stdout)[3]).toEqual(['[?]', 'KB step 4', 'restored', 'waiting for you: do KB step 4 by hand']);
    const mermaid = await runCli(['diagram', '--format', 'mermaid', '--db', manual.db]);
    expect(mermaid.stdout).toContain('    class restored,legendWaiting waiting\n');
  }, cliLimit(7));

  it('refuses an unknown run, an unknown format, and a database that is not there', async () => {
    const { sim } = failed;
    expect((await runCli(['diagram', '--run', 'ffff0000', '--db', sim.db])).code).toBe(7);
    expect((await runCli(['diagram', '--detail', '--run', 'ffff0000', '--db', sim.db])).code).toBe(7);
    expect((await runCli(['diagram', '--format', 'png'])).code).toBe(2);
    const missing = await runCli(['diagram', '--format', 'dot', '--run', 'abc', '--db', path.join(sim.dir, 'none.db')]);
    expect(missing.code).not.toBe(0);
    expect(fs.existsSync(path.join(sim.dir, 'none.db'))).toBe(false);
  }, cliLimit(4));

  it('-o into a folder that does not exist is an error of one line, and creates nothing', async () => {
    const dir = tmpDir();
    try {
      const target = path.join(dir, 'missing', 'deeper', 'x.svg');
      const result = await runCli(['diagram', '--format', 'svg', '-o', target], { cwd: dir });
      expect(result.code).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`kms-recover: cannot write the diagram to ${target}: the folder ${path.dirname(target)} does not exist\n`);
      expect(fs.readdirSync(dir)).toEqual([]);
      // Into a file as if it were a folder: refused as well.
      fs.writeFileSync(path.join(dir, 'file'), 'x');
      const notFolder = await runCli(['diagram', '-o', path.join(dir, 'file', 'x.txt')], { cwd: dir });
      expect(notFolder.code).toBe(3);
      expect(notFolder.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(fs.readdirSync(dir)).toEqual(['file']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, cliLimit(2));
});

describe('kms-recover history and status', () => {
  it('history prints the full event log of a failed run; status says what failed and what to do', async () => {
    const { sim, runId } = failed;

    const history = await runCli(['history', runId.slice(0, 4), '--json', '--db', sim.db]);
    expect(history.code, history.stderr).toBe(0);
    const log = parseJson<{ runId: string; state: string; phase: string; events: EventRecord[] }>(history);
    expect(log).toMatchObject({ runId, state: 'restored', phase: 'failed' });
    expect(log.events.map((e) => e.seq)).toEqual(log.events.map((_, i) => i + 1));
    expect(log.events[0]).toMatchObject({ event: 'run.created', from: null, to: 'reinstalled' });
    expect(log.events.filter((e) => e.event === 'step.started').map((e) => e.detail?.step))
      .toEqual(['stopService', 'clearKmsdata', 'restoreKmsdata', 'setCredential', 'startService']);
    expect(log.events.at(-1)).toMatchObject({
      event: 'xstate.error.actor.startService', from: 'credential-set', to: 'restored',
      detail: { phase: 'failed', error: { code: 'ALPHA_REJECTED' } },
    });

    const human = await runCli(['history', runId, '--db', sim.db]);
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^Run ${runId}: ${log.events.length} events; now at restored, a step failed; times are local, UTC[+-]\\d{2}:\\d{2}$`));
    expect(lines.slice(2)).toHaveLength(log.events.length);
    // In words (the raw event type stays in --json above); local times, their offset said once in the header.
    expect(lines.at(-1)).toMatch(/ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+credential-set -> restored \(failed\)\s+KB steps 5-6 failed: the alpha string was refused \(ALPHA_REJECTED\) when the service was started: /);
    expect(human.stdout).not.toContain('xstate.');

    const status = parseJson<RunStatus>(await runCli(['status', runId, '--json', '--db', sim.db]));
    expect(status.steps.map((s) => [s.state, s.status, s.step, s.attempts])).toEqual([
      ['reinstalled', 'done', null, 0],
      ['stopped', 'done', 'stopService', 1],
      ['cleared', 'done', 'clearKmsdata', 1],
      ['restored', 'done', 'restoreKmsdata', 1],
      ['credential-set', 'failed', 'setCredential', 1],
      ['running', 'pending', 'startService', 1],
    ]);
    expect(status.steps.every((s) => s.step === null || (s.durationMs !== null && s.durationMs >= 0))).toBe(true);
    expect(status.steps.find((s) => s.state === 'credential-set')!.reachedAt).not.toBeNull(); // reached, then sent back
    expect(status.attempts).toEqual({ stopService: 1, clearKmsdata: 1, restoreKmsdata: 1, setCredential: 1, startService: 1 });
    expect(status.lastError).toMatchObject({ step: 'startService', code: 'ALPHA_REJECTED' });
    expect(status.lastErrorAt).toBe(log.events.at(-1)!.at);
    // Given in KMS_ALPHA_STRING: the advice says to set it to the original one (or use the startup disk).
    expect(status.next).toBe(`The alpha string in KMS_ALPHA_STRING was refused. Set it to the ORIGINAL server's alpha string (or insert its startup disk and add --startup-disk <Kmspwd.ini>), then run: ${printedCommand(`kms-recover resume ${runId}`, sim.db)}`);
    expect(status.drift).toEqual([]);
    expect(status.lease).toBeNull();
    expect(status.eventCount).toBe(log.events.length);

    const view = await runCli(['status', '--db', sim.db]);
    expect(view.stdout).toMatch(/\[x\] restored\s+KB 4\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+restoreKmsdata\s+1 attempt\s+(less than a second|\d+ seconds?)$/m);
    expect(view.stdout).toMatch(/\[!\] credential-set\s+KB 5-6\s+failed\s+setCredential\s+1 attempt/);
    expect(view.stdout).toContain('Driven by: nobody');
    // The failed step is said once, by the outcome line: the box marked (KB 5-6), its words and code, the message.
    expect(view.stdout).not.toContain('Last error');
    expect(view.stdout).toContain(`Run ${runId} stopped at restored: KB steps 5-6 failed: the alpha string was refused (ALPHA_REJECTED) when the service was started: `);
    expect(view.stdout).toContain(printedCommand(`kms-recover history ${runId}`, sim.db));
  }, cliLimit(4));

  it('status and history show drift (the service running again after a reboot) and a lease taken over', async () => {
    const sim = await simFixture();
    const killed = await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:restored' } });
    expect(killed.signal).toBe('SIGKILL');
    const reboot = await runCli(['sim', 'reboot', sim.root]); // the restored KMS starts again by itself
    expect(reboot.code, reboot.stderr).toBe(0);
    const resumed = await runCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(resumed.code, resumed.stderr).toBe(0);

    const status = await statusOf(sim);
    expect(status).toMatchObject({ state: 'running', phase: 'done', done: true, lastError: null, next: null, lease: null });
    expect(status.history.map((h) => h.to)).toEqual(SIX_STATES);
    expect(status.steps.map((s) => s.status)).toEqual(SIX_STATES.map(() => 'done'));
    expect(status.drift).toEqual([expect.objectContaining({ step: 'setCredential', service: 'MSExchangeKMS', serviceState: 'running' })]);
    expect(status.takeovers).toHaveLength(1);
    expect(status.takeovers[0]!.fromPid).toEqual(expect.any(Number));

    const view = await runCli(['status', '--db', sim.db]);
    expect(view.stdout).toMatch(/Drift: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d MSExchangeKMS was running before setCredential/);
    expect(view.stdout).toMatch(/Lease: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d taken over from pid \d+/);
    expect(view.stdout.trimEnd().split('\n').at(-1)).toBe(`Run ${status.runId} is running: recovery complete: MSExchangeKMS has run for 0 s on the restored database.`);

    const history = parseJson<{ events: EventRecord[] }>(await runCli(['history', status.runId, '--json', '--db', sim.db]));
    const names = history.events.map((e) => e.event);
    expect(names).toContain('drift.service-running');
    expect(names).toContain('lease.taken-over');
    expect(names.indexOf('lease.taken-over')).toBeLessThan(names.indexOf('drift.service-running'));

    const text = await runCli(['diagram', '--detail', '--db', sim.db]);
    expect(text.stdout).toMatch(new RegExp(`\\[x\\] running .*<== run ${status.runId} ended here`));
    const overview = await runCli(['diagram', '--db', sim.db]);
    expect(overview.stdout.split('\n')[1]).toMatch(new RegExp(`^Run ${status.runId}: recovery complete, the original Key Management Server is running`));
    expect(overviewRows(overview.stdout).map((r) => r[0])).toEqual(SIX_STATES.map(() => '[x]'));
    await runCli(['sim', 'stop', sim.root]);
  }, cliLimit(9));

  it('history without a run id tells the latest run, as status does, and refuses an unknown one', async () => {
    const { sim } = failed;
    const latest = await runCli(['history', '--json', '--db', sim.db]);
    expect(latest.code).toBe(0);
    const status = parseJson<{ runId: string }>(await runCli(['status', '--json', '--db', sim.db]));
    expect(parseJson<{ runId: string }>(latest).runId).toBe(status.runId);
    const unknown = await runCli(['history', 'ffff0000', '--json', '--db', sim.db]);
    expect(unknown.code).toBe(7);
    expect(parseJson<{ error: { code: string } }>(unknown).error.code).toBe('RUN_NOT_FOUND');
  }, cliLimit(3));
});
