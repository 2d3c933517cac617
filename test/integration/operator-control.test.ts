import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MACHINE_VERSION } from '../../machines/index.js';
import { definitionHash } from '../../recovery/definition-hash.js';
import { eventRows } from '../helpers/event-rows.js';
import { holdAt } from '../helpers/hold.js';
import { parseJson, printedCommand, runCli, spawnCli } from '../helpers/run-cli.js';
import { serviceState, startArgs, statusOf, wrongAlpha } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

const start = (sim: SimFixture, extra: string[], env: Record<string, string> = {}) => runCli(startArgs(sim, extra), { env });

describe('durable retries and timeouts', () => {
  it('retries a transient failure with back-off, recorded in the event log', async () => {
    const sim = await simFixture();
    const result = await start(sim, ['--startup-disk', sim.startupDisk, '--attempts', 'clearKmsdata=3', '--backoff', 'clearKmsdata=0.2'],
      { KMS_RECOVER_FAULT: 'clearKmsdata:2' });
    expect(result.stderr).toMatch(/retrying clearKmsdata in \d+\.\d s \(attempt 2 of 3\)/);
    expect(result.stderr).toMatch(/retrying clearKmsdata in \d+\.\d s \(attempt 3 of 3\)/);
    expect(result.code).toBe(0);
    const events = eventRows(sim.db);
    const retries = events.filter((e) => e.event === 'retry.scheduled');
    expect(retries.map((e) => e.detail?.attempt)).toEqual([2, 3]);
    expect(events.filter((e) => e.event === 'step.started' && e.detail?.step === 'clearKmsdata').map((e) => e.detail?.attempt)).toEqual([1, 2, 3]);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  }, cliLimit(1));

  it('rests after the last attempt, and resume tries once more', async () => {
    const sim = await simFixture();
    const first = await start(sim, ['--startup-disk', sim.startupDisk, '--attempts', 'stopService=2', '--backoff', 'stopService=0.1'],
      { KMS_RECOVER_FAULT: 'stopService:2' });
    expect(first.code).toBe(4);
    expect(await statusOf(sim)).toMatchObject({ state: 'reinstalled', phase: 'failed', lastError: { code: 'INJECTED_FAULT' } });
    const resumed = await runCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(resumed.code).toBe(0);
  }, cliLimit(3));

  /** The back-off of the test below, in seconds: a fresh wait would be 15 to 30 s (half of it, and up to all of it, at random). */
  const BACKOFF_S = 30;
  /** What the test leaves of the scheduled wait when the resume reads it. */
  const REMAINING_MS = 5000;

  it('a run killed during a back-off resumes with the remaining wait: not a fresh one, and not none', async () => {
    const sim = await simFixture();
    const killed = await start(sim, ['--startup-disk', sim.startupDisk, '--attempts', 'clearKmsdata=3', '--backoff', `clearKmsdata=${BACKOFF_S}`],
      { KMS_RECOVER_FAULT: 'clearKmsdata:1', KMS_RECOVER_FAIL_AT: 'backoff-wait:clearKmsdata' });
    expect(killed.signal).toBe('SIGKILL');
    const scheduled = eventRows(sim.db).find((e) => e.event === 'retry.scheduled')!;
    expect(Number(scheduled.detail?.delayMs)).toBeGreaterThanOrEqual(BACKOFF_S * 500);
    const timerOf = (db: Database.Database) => db.prepare('SELECT next_attempt_at FROM run_timers').get() as { next_attempt_at: string };

    // The resume is held just before it reads the scheduled wait; the test then leaves REMAINING_MS
    // of it, however long the processes took to get here: the wait it reads is certainly not over,
    // and far shorter than a fresh one.
    const hold = holdAt(sim, 'backoff-resume:clearKmsdata');
    const resume = spawnCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk], { env: hold.env });
    await hold.reached(resume);
    const db = new Database(sim.db);
    expect(timerOf(db).next_attempt_at, 'the killed process committed its schedule').toBe(scheduled.detail?.nextAttemptAt);
    const due = Date.now() + REMAINING_MS;
    db.prepare('UPDATE run_timers SET next_attempt_at = ?').run(new Date(due).toISOString());
    db.close();
    const releasedAt = Date.now();
    hold.release();

    const resumed = await resume.done;
    expect(resumed.code, resumed.stderr).toBe(0);
    const waited = /waiting (\d+\.\d) s before retrying clearKmsdata \(attempt 2\), as scheduled/.exec(resumed.stderr);
    expect(waited, resumed.stderr).not.toBeNull();
    expect(Number(waited![1]) * 1000).toBeLessThanOrEqual(due - releasedAt + 50); // what remained (the line rounds to a tenth)
    const events = eventRows(sim.db);
    expect(events.filter((e) => e.event === 'retry.scheduled')).toHaveLength(1);
    const retriedAt = Date.parse(events.find((e) => e.event === 'RETRY')!.at);
    expect(retriedAt).toBeGreaterThanOrEqual(due - 5); // not none
    expect(retriedAt).toBeLessThan(releasedAt + BACKOFF_S * 500); // not a fresh wait: that would be 15 s at least
  }, cliLimit(2, { waitMs: REMAINING_MS }));

  it('an attempt over its time limit fails with STEP_TIMEOUT and its deadline recorded', async () => {
    const sim = await simFixture();
    // The step is held past its 1 s limit before it acts; its work is then told to stop.
    const result = await start(sim, ['--startup-disk', sim.startupDisk, '--timeout', 'stopService=1', '--attempts', 'stopService=1'],
      { KMS_RECOVER_DELAY_AT: 'before-step:stopService:1500' });
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/step stopService did not finish within 1 s/);
    const status = await statusOf(sim);
    expect(status).toMatchObject({ state: 'reinstalled', phase: 'failed', lastError: { code: 'STEP_TIMEOUT' } });
    const started = eventRows(sim.db).find((e) => e.event === 'step.started')!;
    expect(Date.parse(String(started.detail?.deadlineAt)) - Date.parse(started.at)).toBe(1000);
  }, cliLimit(2, { waitMs: 1500 }));

  it('a restore over its time limit stops at its next file: STEP_TIMEOUT, the process ends by itself, resume finishes', async () => {
    const sim = await simFixture(['--extra-files', '20']);
    const result = await start(sim, ['--startup-disk', sim.startupDisk, '--timeout', 'restoreKmsdata=1', '--attempts', 'restoreKmsdata=1'],
      { KMS_RECOVER_DELAY_AT: 'restore-after-file:2:1500' });
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/step restoreKmsdata did not finish within 1 s/);
    expect(result.stdout).not.toMatch(/could not be stopped/);
    const status = await statusOf(sim);
    expect(status).toMatchObject({ state: 'cleared', phase: 'failed', lastError: { code: 'STEP_TIMEOUT' } });
    // The copy stopped: no staging copy left, Kmsdata still empty.
    expect(fs.readdirSync(sim.kmsdata)).toEqual([]);
    expect(fs.readdirSync(path.dirname(sim.kmsdata)).filter((n) => n.includes('restore-staging'))).toEqual([]);
    const resumed = await runCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk, '--timeout', 'restoreKmsdata=600']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  }, cliLimit(3, { waitMs: 1500 }));

  it('refuses option values the runtime cannot honour, exactly, and changes nothing', async () => {
    const sim = await simFixture();
    for (const bad of [['--timeout', 'stopService=0.5'], ['--timeout', 'stopService=86401'], ['--timeout', 'stopService=2147484'],
      ['--attempts', 'stopService=0'], ['--attempts', 'constructor=3'], ['--manual', 'toString'], ['--backoff', 'clear=0.0001']]) {
      const result = await start(sim, ['--startup-disk', sim.startupDisk, ...bad]);
      expect(result.code, bad.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(fs.existsSync(sim.db)).toBe(false);
    expect(await serviceState(sim)).toBe('running');
  }, cliLimit(7));
});

describe('manual steps', () => {
  it('stops at a manual step, verifies after confirm, and goes on', async () => {
    const sim = await simFixture();
    const first = await start(sim, ['--startup-disk', sim.startupDisk, '--manual', 'stop']);
    expect(first.code).toBe(8);
    expect(first.stdout).toMatch(/^Waiting for you: do KB step 2 by hand: Stop the Exchange Key Management Server service\.\nNext: kms-recover confirm --db \S+ \w+ stopService --startup-disk \S+Kmspwd\.ini$/m);
    expect(await serviceState(sim)).toBe('running');
    const { runId } = await statusOf(sim);

    // A confirm the server does not bear out leaves the run waiting, and spends no attempt.
    const early = await runCli(['confirm', runId, 'stopService', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(early.code).toBe(8);
    expect(early.stdout).toMatch(/Your confirm was checked: the step is not done yet: MSExchangeKMS is still running\./);
    expect(early.stdout.match(/MSExchangeKMS is still running/g)).toHaveLength(1);
    expect(await statusOf(sim)).toMatchObject({ phase: 'waiting', situation: 'waiting', attempts: {} });
    expect(eventRows(sim.db).filter((e) => e.event === 'step.started')).toHaveLength(0);

    await runCli(['sim', 'stop', sim.root]);
    const done = await runCli(['confirm', runId, 'stopService', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(done.code).toBe(0);
    expect(eventRows(sim.db).filter((e) => e.event === 'CONFIRM')).toHaveLength(2);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  }, cliLimit(6));

  it('a manual start needs no alpha string from the tool: the operator gives it to the service', async () => {
    const sim = await simFixture();
    const first = await start(sim, ['--manual', 'startService']); // no disk, no variable, no terminal
    expect(first.code).toBe(8);
    // The step done before the operator's is told, as every other: the restore's line, then the wait.
    expect(first.stderr, first.stderr).toMatch(/\[3\/5\] restored +KB step 4/);
    const { runId, state } = await statusOf(sim);
    expect(state).toBe('restored');
    const credential = await runCli(['confirm', runId, 'credential', '--db', sim.db]);
    expect(credential.code).toBe(8);
    expect(credential.stderr, credential.stderr).toMatch(/\[4\/5\] credential-set/);
    expect(credential.stdout).toMatch(/do KB step 7 by hand: Start the Microsoft Key Management Server service/);
    await runCli(['sim', 'start', sim.root, '--startup-disk', sim.startupDisk]);
    const started = await runCli(['confirm', runId, 'start', '--db', sim.db]);
    expect(started.code).toBe(0);
    expect(await statusOf(sim)).toMatchObject({ state: 'running' });
  }, cliLimit(6));

  it('refuses to confirm a step that is not manual or not the current one', async () => {
    const sim = await simFixture();
    await start(sim, ['--startup-disk', sim.startupDisk, '--manual', 'restore']);
    const { runId, state } = await statusOf(sim);
    expect(state).toBe('cleared');
    const notManual = await runCli(['confirm', runId, 'stop', '--db', sim.db]);
    expect(notManual.code).toBe(3);
    // It names the step the run waits for, with the confirm command that works (its startup disk too).
    expect(notManual.stderr).toContain(`run ${runId} waits for you at KB step 4 (restoreKmsdata), not stopService: when that is done, run: ${printedCommand(`kms-recover confirm ${runId} restoreKmsdata --startup-disk ${sim.startupDisk}`, sim.db)}`);
    const bad = await start(sim, ['--startup-disk', sim.startupDisk, '--manual', 'credential']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/a manual setCredential needs a manual startService/);
  }, cliLimit(4));
});

describe('stale runs and takeover', () => {
  function fakeLease(sim: SimFixture, runId: string, host: string, heartbeatAgoMs: number) {
    const db = new Database(sim.db);
    const at = new Date(Date.now() - heartbeatAgoMs).toISOString();
    db.prepare('INSERT OR REPLACE INTO leases (run_id, host, pid, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)').run(runId, host, 4242, at, at);
    db.close();
  }

  it('list marks a dead holder on this host; resume takes it over', async () => {
    const sim = await simFixture();
    const killed = await start(sim, ['--startup-disk', sim.startupDisk], { KMS_RECOVER_FAIL_AT: 'after-checkpoint:stopped' });
    expect(killed.signal).toBe('SIGKILL');
    const list = parseJson<{ stale: boolean; driver: string }[]>(await runCli(['list', '--json', '--db', sim.db]));
    expect(list[0]).toMatchObject({ stale: true, driver: expect.stringMatching(/^STALE: pid \d+ on .+ is dead$/) });
  }, cliLimit(2));

  it('a silent holder on another host is taken over only with confirmation, recorded', async () => {
    const sim = await simFixture();
    await start(sim, ['--startup-disk', sim.startupDisk], { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' });
    const { runId } = await statusOf(sim);

    fakeLease(sim, runId, 'kms-old-server', 1000);
    const fresh = await runCli(['takeover', runId, '--yes', '--db', sim.db]);
    expect(fresh.code).toBe(5);
    expect(fresh.stderr).toMatch(/last heartbeat was \d+ s ago/);

    fakeLease(sim, runId, 'kms-old-server', 10 * 60_000);
    const list = parseJson<{ stale: boolean; driver: string }[]>(await runCli(['list', '--json', '--db', sim.db]));
    expect(list[0]?.driver).toMatch(/^STALE: pid 4242 on kms-old-server, no heartbeat for \d+ s$/);
    const locked = await runCli(['resume', runId, '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(locked.code).toBe(5);
    expect(locked.stderr).toMatch(new RegExp(`run ${runId} is being driven by pid 4242 on kms-old-server since`));
    const unconfirmed = await runCli(['takeover', runId, '--db', sim.db]);
    expect(unconfirmed.code).toBe(3);
    expect(unconfirmed.stderr).toMatch(/needs confirmation: run it on a terminal, or add --yes/);

    const taken = await runCli(['takeover', runId, '--yes', '--db', sim.db]);
    expect(taken.code).toBe(0);
    const event = eventRows(sim.db).filter((e) => e.event === 'lease.taken-over').at(-1)!;
    expect(event.detail).toMatchObject({ fromHost: 'kms-old-server', fromPid: 4242, by: 'takeover', confirmed: '--yes' });
    const resumed = await runCli(['resume', runId, '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(resumed.code).toBe(0);
  }, cliLimit(8));
});

describe('start --dry-run', () => {
  it('prints the plan of every step and changes nothing, writes no run', async () => {
    const sim = await simFixture();
    const before = treeBytes(sim.kmsdata);
    const result = await start(sim, ['--startup-disk', sim.startupDisk, '--dry-run', '--json']);
    expect(result.code).toBe(0);
    const plan = parseJson<{ dryRun: boolean; restore: { files: number; bytes: number }; steps: { step: string; from: string; to: string; touches: string }[] }>(result);
    expect(plan.dryRun).toBe(true);
    expect(plan.steps.map((s) => `${s.from}>${s.to}`)).toEqual(['reinstalled>stopped', 'stopped>cleared', 'cleared>restored', 'restored>credential-set', 'credential-set>running']);
    const backupFiles = [...treeBytes(sim.backup).entries()].filter(([k]) => !k.endsWith('/'));
    expect(plan.restore.files).toBe(backupFiles.length);
    expect(plan.restore.bytes).toBe(backupFiles.reduce((n, [, b]) => n + b.length, 0));
    expect(plan.steps[2]?.touches).toContain(sim.backup);
    expect(fs.existsSync(sim.db)).toBe(false);
    expect(treeBytes(sim.kmsdata)).toEqual(before);
    expect(await serviceState(sim)).toBe('running');
  }, cliLimit(1));
});

describe('rerun from a step (resume --from)', () => {
  it('goes back only after confirmation, redoes the steps from there, and records it', async () => {
    const sim = await simFixture();
    const wrong = wrongAlpha(sim);
    expect((await start(sim, [], { KMS_ALPHA_STRING: wrong })).code).toBe(4);
    const { runId } = await statusOf(sim);
    const eventsBefore = eventRows(sim.db).length;

    const unconfirmed = await runCli(['resume', runId, '--from', 'stopped', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(unconfirmed.code).toBe(3);
    expect(unconfirmed.stderr).toContain(`These steps will be done again:\n  - KB step 3: go to the ${sim.kmsdata} directory, and delete all files.`);
    expect(unconfirmed.stderr).toMatch(/needs confirmation: run it on a terminal, or add --yes/);
    const forward = await runCli(['resume', runId, '--from', 'running', '--yes', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(forward.code).toBe(3);
    expect(forward.stderr).toMatch(/only re-enters an earlier state, never jumps forward past a guard/);
    expect(eventRows(sim.db)).toHaveLength(eventsBefore); // nothing written

    const redone = await runCli(['resume', runId, '--from', 'stopped', '--yes', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(redone.code).toBe(0);
    const events = eventRows(sim.db);
    const rewind = events.find((e) => e.event === 'REWIND')!;
    expect(rewind).toMatchObject({ from_state: 'restored', to_state: 'stopped', detail: { from: 'restored', to: 'stopped', confirmed: '--yes' } });
    expect(events.filter((e) => e.event === 'step.started' && e.detail?.step === 'clearKmsdata')).toHaveLength(2);
    expect(events.filter((e) => e.event === 'step.started' && e.detail?.step === 'restoreKmsdata')).toHaveLength(2);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
    expect(await statusOf(sim)).toMatchObject({ state: 'running' });
  }, cliLimit(6));
});

describe('versioned definitions', () => {
  /** Makes the run in `sim.db` look as definition v1 left it, from a real v1 snapshot (test/fixtures). */
  function persistAsV1(sim: SimFixture, runId: string) {
    const fixture = JSON.parse(fs.readFileSync(new URL('../fixtures/definition-v1/snapshot-cleared.json', import.meta.url), 'utf8')) as
      { machineVersion: number; definitionHash: string; snapshot: { context: Record<string, unknown>; children: Record<string, { snapshot: { input: Record<string, unknown> } }> } };
    const db = new Database(sim.db);
    const current = JSON.parse((db.prepare('SELECT snapshot FROM runs WHERE id = ?').get(runId) as { snapshot: string }).snapshot) as { context: Record<string, unknown> };
    const snapshot = fixture.snapshot;
    for (const key of ['kmsdata', 'backup', 'backupManifest']) snapshot.context[key] = current.context[key];
    snapshot.children.restoreKmsdata!.snapshot.input = { serviceName: 'MSExchangeKMS', kmsdata: current.context.kmsdata, backup: current.context.backup };
    expect(snapshot.context).not.toHaveProperty('rewinds');
    db.prepare('UPDATE runs SET machine_version = ?, definition_hash = ?, snapshot = ? WHERE id = ?')
      .run(fixture.machineVersion, fixture.definitionHash, JSON.stringify(snapshot), runId);
    db.close();
  }

  it('resumes a run persisted by definition v1 through the explicit v1 -> v2 -> v3 -> v4 -> v5 migrations', async () => {
    const sim = await simFixture();
    await start(sim, ['--startup-disk', sim.startupDisk], { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' });
    const { runId } = await statusOf(sim);
    persistAsV1(sim, runId);
    const resumed = await runCli(['resume', runId, '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(resumed.code, `${resumed.stdout}${resumed.stderr}`).toBe(0);
    const migrated = eventRows(sim.db).find((e) => e.event === 'definition.migrated')!;
    expect(migrated.detail).toMatchObject({ fromVersion: 1, toVersion: MACHINE_VERSION });
    expect(MACHINE_VERSION).toBe(5);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
    const db = new Database(sim.db, { fileMustExist: true });
    const row = db.prepare('SELECT machine_version, snapshot FROM runs WHERE id = ?').get(runId) as { machine_version: number; snapshot: string };
    db.close();
    expect(row.machine_version).toBe(MACHINE_VERSION);
    expect(JSON.parse(row.snapshot).context).toMatchObject({ rewinds: 0, driftRedos: 0 });
  }, cliLimit(3));

  it('resumes a run made by v3, whose hash was taken of the diagrams\' graph, through v3 -> v4 -> v5', async () => {
    const sim = await simFixture();
    await start(sim, ['--startup-disk', sim.startupDisk], { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' });
    const { runId } = await statusOf(sim);
    // What the v3 release stored: its definition hash as committed in its diagrams (machine v3, definition cec21168e9115159).
    const db = new Database(sim.db);
    db.prepare('UPDATE runs SET machine_version = 3, definition_hash = ? WHERE id = ?').run('cec21168e9115159', runId);
    db.close();
    const resumed = await runCli(['resume', runId, '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(resumed.code, `${resumed.stdout}${resumed.stderr}`).toBe(0);
    const migrated = eventRows(sim.db).find((e) => e.event === 'definition.migrated')!;
    expect(migrated.detail).toMatchObject({ fromVersion: 3, toVersion: MACHINE_VERSION, fromHash: 'cec21168e9115159' });
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
    const after = new Database(sim.db, { fileMustExist: true });
    const row = after.prepare('SELECT machine_version, definition_hash FROM runs WHERE id = ?').get(runId) as { machine_version: number; definition_hash: string };
    after.close();
    expect(row).toEqual({ machine_version: MACHINE_VERSION, definition_hash: definitionHash() });
  }, cliLimit(3));

  it('a run the v4 release left waiting at a manual clear (failed, MANUAL_STEP_PENDING) is waiting after v4 -> v5, and a confirm finishes it', async () => {
    const sim = await simFixture();
    const started = await start(sim, ['--startup-disk', sim.startupDisk, '--manual', 'clear']);
    expect(started.code, `${started.stdout}${started.stderr}`).toBe(8);
    const { runId } = await statusOf(sim);
    // The row as the v4 release (7fbc72d) stored it: its snapshot, with this server's folders and identity.
    const fixture = JSON.parse(fs.readFileSync(new URL('../fixtures/definition-v4/snapshot-waiting-clear.json', import.meta.url), 'utf8')) as
      { machineVersion: number; definitionHash: string; phase: string; snapshot: { value: unknown; context: Record<string, unknown> } };
    const db = new Database(sim.db);
    const current = JSON.parse((db.prepare('SELECT snapshot FROM runs WHERE id = ?').get(runId) as { snapshot: string }).snapshot) as { context: Record<string, unknown> };
    const snapshot = fixture.snapshot;
    for (const key of ['kmsdata', 'backup', 'backupManifest', 'kmsdataIdentity']) snapshot.context[key] = current.context[key];
    expect(snapshot.value).toEqual({ stopped: 'failed' });
    // Its phase as the schema v6 upgrade leaves such a row (persistence/migrations.ts): waiting, not the stored `failed`.
    expect(fixture.phase).toBe('failed');
    db.prepare('UPDATE runs SET machine_version = ?, definition_hash = ?, phase = ?, snapshot = ? WHERE id = ?')
      .run(fixture.machineVersion, fixture.definitionHash, 'waiting', JSON.stringify(snapshot), runId);
    db.close();
    // Read before any migration: already waiting for you, as v4's screens said.
    expect(await statusOf(sim)).toMatchObject({ situation: 'waiting', waitingFor: { confirm: 'clearKmsdata' } });

    // `resume` migrates it and leaves it waiting: nothing is asked, nothing touched.
    const resumed = await runCli(['resume', runId, '--db', sim.db]);
    expect(resumed.code, `${resumed.stdout}${resumed.stderr}`).toBe(8);
    expect(eventRows(sim.db).find((e) => e.event === 'definition.migrated')!.detail).toMatchObject({ fromVersion: 4, toVersion: MACHINE_VERSION });
    expect(await statusOf(sim)).toMatchObject({ state: 'stopped', phase: 'waiting', situation: 'waiting', machineVersion: MACHINE_VERSION });

    // The operator empties Kmsdata by hand, then confirms: the run verifies it and finishes.
    for (const name of fs.readdirSync(sim.kmsdata)) fs.rmSync(path.join(sim.kmsdata, name), { recursive: true });
    const confirmed = await runCli(['confirm', runId, 'clearKmsdata', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(confirmed.code, `${confirmed.stdout}${confirmed.stderr}`).toBe(0);
    const finished = await statusOf(sim);
    expect(finished).toMatchObject({ state: 'running', situation: 'finished' });
    expect(finished.attempts).not.toHaveProperty('clearKmsdata'); // the operator's clear, verified: no attempt of the tool's
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  }, cliLimit(7));

  it('refuses a run made by a newer definition, with what to do, and changes nothing', async () => {
    const sim = await simFixture();
    await start(sim, ['--startup-disk', sim.startupDisk], { KMS_RECOVER_FAIL_AT: 'after-checkpoint:stopped' });
    const { runId } = await statusOf(sim);
    const db = new Database(sim.db);
    db.prepare('UPDATE runs SET machine_version = 9 WHERE id = ?').run(runId);
    db.close();
    const before = treeBytes(sim.kmsdata);
    const result = await runCli(['resume', runId, '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(new RegExp(`run ${runId} was made by definition v9; this is v${MACHINE_VERSION}; finish it with the kms-recover that started it`));
    expect(treeBytes(sim.kmsdata)).toEqual(before);
  }, cliLimit(3));
});
