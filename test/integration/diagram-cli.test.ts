import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../persistence/index.js';
import type { RunStatus } from '../../recovery/run-status.js';
import { parseJson, REPO_ROOT, runCli } from '../helpers/run-cli.js';
import { cleanupSimFixtures, simFixture, type SimFixture } from '../helpers/sim-fixture.js';

afterEach(cleanupSimFixtures);

const SIX_STATES = ['reinstalled', 'stopped', 'cleared', 'restored', 'credential-set', 'running'];
const COMMITTED = { mermaid: 'diagrams/recovery.mmd', dot: 'diagrams/recovery.dot', svg: 'diagrams/recovery.svg' } as const;

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kms-diagram-'));
}

/** A run refused at KB step 7: a well-formed (14 characters) but wrong alpha string. */
async function failedRun(sim: SimFixture): Promise<string> {
  const wrong = sim.alpha === 'ABCDEFGHIJKLMN' ? 'NMLKJIHGFEDCBA' : 'ABCDEFGHIJKLMN';
  const result = await runCli(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--db', sim.db], { env: { KMS_ALPHA_STRING: wrong } });
  expect(result.code, result.stderr).toBe(4);
  return parseJson<RunStatus>(await runCli(['status', '--json', '--db', sim.db])).runId;
}

describe('the committed diagrams', () => {
  it('are exactly what the machine generates now (npm run diagrams regenerates them)', async () => {
    const dir = tmpDir();
    try {
      for (const [format, file] of Object.entries(COMMITTED)) {
        const out = path.join(dir, path.basename(file));
        const result = await runCli(['diagram', '--format', format, '-o', out], { cwd: dir });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toBe('');
        const committed = path.join(REPO_ROOT, file);
        expect(fs.existsSync(committed), `${file} is missing: run npm run diagrams`).toBe(true);
        expect(fs.readFileSync(out).equals(fs.readFileSync(committed)), `${file} differs from the machine: run npm run diagrams`).toBe(true);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the README shows the committed Mermaid diagram inline', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const mermaid = fs.readFileSync(path.join(REPO_ROOT, COMMITTED.mermaid), 'utf8');
    expect(readme.includes(`\`\`\`mermaid\n${mermaid}\`\`\`\n`), 'README.md\'s state diagram differs from diagrams/recovery.mmd: run npm run diagrams').toBe(true);
  });

  it('stdout and -o give the same bytes, and nothing depends on a database in the working directory', async () => {
    const sim = await simFixture();
    await failedRun(sim);
    for (const format of ['mermaid', 'dot'] as const) {
      const printed = await runCli(['diagram', '--format', format], { env: { KMS_RECOVER_DB: sim.db } });
      expect(printed.code).toBe(0);
      expect(printed.stdout).toBe(fs.readFileSync(path.join(REPO_ROOT, COMMITTED[format]), 'utf8'));
    }
  }, 60_000);
});

describe('kms-recover diagram', () => {
  it('prints the state chain by default, without a run when there is no database', async () => {
    const dir = tmpDir();
    try {
      const result = await runCli(['diagram'], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^State machine "recovery" \(machine v\d+, definition [0-9a-f]{16}\): 6 states, final: running\n/);
      expect(result.stdout).toContain('No run shown');
      const chain = result.stdout.split('\n').filter((l) => /^\s{2}( o |\[.\]) /.test(l)).map((l) => l.slice(6).split(/\s+/)[0]);
      expect(chain).toEqual(SIX_STATES);
      expect(fs.readdirSync(dir)).toEqual([]); // no database created
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('marks a failed run in every format: the terminal, Mermaid, DOT and SVG', async () => {
    const sim = await simFixture();
    const runId = await failedRun(sim);

    const text = await runCli(['diagram', '--db', sim.db]); // the latest run, without --run
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Run ${runId}: restored, step failed (startService: ALPHA_REJECTED)`);
    expect(text.stdout).toMatch(new RegExp(`\\[!\\] restored .*<== run ${runId} is here: restored\\.failed \\(ALPHA_REJECTED\\)`));
    expect(text.stdout).toMatch(/\[x\] cleared /);
    expect(text.stdout).toMatch(/\[ \] running /);

    const mermaid = await runCli(['diagram', '--format', 'mermaid', '--run', runId.slice(0, 5), '--db', sim.db]);
    expect(mermaid.code, mermaid.stderr).toBe(0);
    expect(mermaid.stdout).toContain(`run ${runId}: restored, step failed (startService: ALPHA_REJECTED)`);
    expect(mermaid.stdout).toContain('    class restored_failed failed\n');
    expect(mermaid.stdout).toContain('    class reinstalled_working,stopped_working,cleared_working,restored_working,credential_set_working visited\n');

    const dot = await runCli(['diagram', '--format', 'dot', '--run', runId, '--db', sim.db]);
    expect(dot.code, dot.stderr).toBe(0);
    expect(dot.stdout).toMatch(/"restored\.failed" \[label="failed", style="rounded,filled,bold", fillcolor="#f9d0d0"/);

    const out = path.join(sim.dir, 'out', 'run.svg');
    const svg = await runCli(['diagram', '--format', 'svg', '--run', runId, '--db', sim.db, '-o', out]);
    expect(svg.code, svg.stderr).toBe(0);
    const problems: string[] = [];
    const doc = new DOMParser({ onError: (level, message) => { problems.push(`${level}: ${message}`); } })
      .parseFromString(fs.readFileSync(out, 'utf8'), 'image/svg+xml');
    expect(problems).toEqual([]);
    const words = Array.from(doc.getElementsByTagName('text')).map((t) => t.textContent);
    expect(words).toContain(`run ${runId}: restored, step failed (startService: ALPHA_REJECTED)`);
    for (const state of SIX_STATES) expect(words.some((w) => w?.startsWith(state)), state).toBe(true);
  }, 90_000);

  it('refuses an unknown run, an unknown format, and a database that is not there', async () => {
    const sim = await simFixture();
    await failedRun(sim);
    expect((await runCli(['diagram', '--run', 'zzzz', '--db', sim.db])).code).toBe(7);
    expect((await runCli(['diagram', '--format', 'png'])).code).toBe(2);
    const missing = await runCli(['diagram', '--format', 'dot', '--run', 'abc', '--db', path.join(sim.dir, 'none.db')]);
    expect(missing.code).not.toBe(0);
    expect(fs.existsSync(path.join(sim.dir, 'none.db'))).toBe(false);
  }, 60_000);
});

describe('kms-recover history and status', () => {
  it('history prints the full event log of a failed run; status says what failed and what to do', async () => {
    const sim = await simFixture();
    const runId = await failedRun(sim);

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
    expect(lines[0]).toBe(`Run ${runId}: ${log.events.length} events, now restored (failed)`);
    expect(lines.slice(2)).toHaveLength(log.events.length);
    expect(lines.at(-1)).toMatch(/xstate\.error\.actor\.startService\s+credential-set -> restored \(failed\)\s+error=ALPHA_REJECTED: /);

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
    expect(status.next).toMatch(/KB steps 5-6: .*startup disk.* or set KMS_ALPHA_STRING .*then run: kms-recover resume /);
    expect(status.drift).toEqual([]);
    expect(status.lease).toBeNull();
    expect(status.eventCount).toBe(log.events.length);

    const view = await runCli(['status', '--db', sim.db]);
    expect(view.stdout).toMatch(/\[x\] restored\s+KB 4\s+\S+\s+restoreKmsdata\s+1 attempt\s+\d/);
    expect(view.stdout).toMatch(/\[!\] credential-set\s+KB 5-6\s+failed\s+setCredential\s+1 attempt/);
    expect(view.stdout).toContain('Driven by: nobody');
    expect(view.stdout).toMatch(/Last error in startService at \S+: ALPHA_REJECTED: /);
    expect(view.stdout).toContain(`kms-recover history ${runId}`);
  }, 90_000);

  it('status and history show drift (the service running again after a reboot) and a lease taken over', async () => {
    const sim = await simFixture();
    const killed = await runCli(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--db', sim.db, '--startup-disk', sim.startupDisk],
      { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:restored' } });
    expect(killed.signal).toBe('SIGKILL');
    const reboot = await runCli(['sim', 'reboot', sim.root]); // the restored KMS starts again by itself
    expect(reboot.code, reboot.stderr).toBe(0);
    const resumed = await runCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(resumed.code, resumed.stderr).toBe(0);

    const status = parseJson<RunStatus>(await runCli(['status', '--json', '--db', sim.db]));
    expect(status).toMatchObject({ state: 'running', phase: 'done', done: true, lastError: null, next: null, lease: null });
    expect(status.history.map((h) => h.to)).toEqual(SIX_STATES);
    expect(status.steps.map((s) => s.status)).toEqual(SIX_STATES.map(() => 'done'));
    expect(status.drift).toEqual([expect.objectContaining({ step: 'setCredential', service: 'MSExchangeKMS', serviceState: 'running' })]);
    expect(status.takeovers).toHaveLength(1);
    expect(status.takeovers[0]!.fromPid).toEqual(expect.any(Number));

    const view = await runCli(['status', '--db', sim.db]);
    expect(view.stdout).toMatch(/Drift: +\S+ MSExchangeKMS was running before setCredential/);
    expect(view.stdout).toMatch(/Lease: +\S+ taken over from pid \d+/);
    expect(view.stdout).toContain('Next: nothing; the original Key Management Server is running.');

    const history = parseJson<{ events: EventRecord[] }>(await runCli(['history', status.runId, '--json', '--db', sim.db]));
    const names = history.events.map((e) => e.event);
    expect(names).toContain('drift.service-running');
    expect(names).toContain('lease.taken-over');
    expect(names.indexOf('lease.taken-over')).toBeLessThan(names.indexOf('drift.service-running'));

    const text = await runCli(['diagram', '--db', sim.db]);
    expect(text.stdout).toMatch(new RegExp(`\\[x\\] running .*<== run ${status.runId} ended here`));
    await runCli(['sim', 'stop', sim.root]);
  }, 90_000);

  it('history needs a run id and refuses an unknown one', async () => {
    const sim = await simFixture();
    await failedRun(sim);
    expect((await runCli(['history', '--db', sim.db])).code).toBe(2);
    const unknown = await runCli(['history', 'nope', '--json', '--db', sim.db]);
    expect(unknown.code).toBe(7);
    expect(parseJson<{ error: { code: string } }>(unknown).error.code).toBe('RUN_NOT_FOUND');
  }, 60_000);
});
