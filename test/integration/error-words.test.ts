import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../recovery/run-status.js';
import { CLI, cliEnv, parseJson, printedCommand, runCli, withTestSettle } from '../helpers/run-cli.js';
import { statusOf, wrongAlpha } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, type SimFixture } from '../helpers/sim-fixture.js';
import { parseSvg } from '../helpers/svg.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

const hasScript = spawnSync('script', ['--version']).status === 0;

/** The words of a screen as one line: a screen may wrap its lines to the terminal, never mid-word. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

/**
 * `kms-recover <args>` on a pseudo-terminal (`script`, util-linux), the alpha string typed at its
 * hidden prompt as an administrator would; the database is found by KMS_RECOVER_DB.
 */
async function onTerminal(sim: SimFixture, args: string[], typed: string): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, CLI, ...withTestSettle(args)].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', command, '--echo', 'never', '/dev/null'], { env: cliEnv({ KMS_RECOVER_DB: sim.db }), stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let asked = false;
  child.stdout.on('data', (d: Buffer) => {
    screen += d.toString();
    if (!asked && screen.includes('Alpha string of the original Key Management Server:')) {
      asked = true;
      child.stdin.write(`${typed}\r`);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(asked, screen).toBe(true);
  return { code, screen: screen.replace(/\r/g, '') };
}

/*
 * Issue 22, "words, not codes": a wrong alpha string typed at the prompt. The KMS refuses it when
 * it is started (KB step 7); the run goes back to be given the right one, so the step that failed
 * is KB steps 5-6, and every screen says so in the same words, with the code beside them.
 */
describe.runIf(hasScript)('a wrong alpha string typed at the prompt, on every screen', () => {
  it('start, status, history and the diagram name KB steps 5-6 in words with the code; Next says to type it again, and that works', async () => {
    const sim = await simFixture();
    const failed = await onTerminal(sim, ['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup], wrongAlpha(sim));
    expect(failed.code, failed.screen).toBe(4);
    const { runId } = await statusOf(sim);
    const failure = 'KB steps 5-6 failed: the alpha string was refused (ALPHA_REJECTED) when the service was started';
    const nextWith = (resume: string) => `The alpha string you typed was refused. Type the ORIGINAL server's alpha string again when asked (or insert its startup disk and add --startup-disk <Kmspwd.ini>), then run: ${resume}`;
    // The start ran with KMS_RECOVER_DB set in its console: its commands need no --db there; the
    // screens below name the database with --db, so their commands carry it.
    const resume = `kms-recover resume ${runId}`;
    const next = nextWith(printedCommand(resume, sim.db));
    expect(nextWith(resume).length - resume.length).toBeLessThanOrEqual(200);

    // start: the stopped line in words, then the one next action.
    expect(flat(failed.screen)).toContain(`Run ${runId} stopped at restored: ${failure}: `);
    expect(flat(failed.screen)).toContain(`Next: ${nextWith(resume)}`);
    expect(failed.screen).not.toContain(wrongAlpha(sim));

    // status: the box marked is KB 5-6, and the outcome line names the same step, once.
    const text = await runCli(['status', '--db', sim.db]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/\[!\] credential-set\s+KB 5-6\s+failed/);
    expect(text.stdout).toMatch(/\[ \] running\s+KB 7 /);
    expect(flat(text.stdout)).toContain(`Run ${runId} stopped at restored: ${failure}: `);
    expect(flat(text.stdout).split(failure)).toHaveLength(2);
    expect(flat(text.stdout)).toContain(`Next: ${next}`);
    expect(text.stdout).not.toMatch(/in startService|ALPHA_REJECTED:/);
    const json = parseJson<RunStatus>(await runCli(['status', '--json', '--db', sim.db]));
    expect(json.steps.find((s) => s.state === 'credential-set')).toMatchObject({ status: 'failed', step: 'setCredential' });
    expect(json.current).toEqual({ kbSteps: '5-6', step: 'setCredential' });
    expect(json.lastError).toMatchObject({ step: 'startService', code: 'ALPHA_REJECTED' }); // --json keeps the machine's record
    expect(json.next).toBe(next);

    // history: the event that left the run failed, in the same words.
    const history = await runCli(['history', runId, '--db', sim.db]);
    expect(history.code, history.stderr).toBe(0);
    expect(flat(history.stdout)).toContain(`credential-set -> restored (failed) ${failure}: `);
    expect(history.stdout).toContain('alpha string given as start parameter, from the prompt');

    // The diagram, as text and as SVG: the headline, the box marked and the next action.
    const diagram = await runCli(['diagram', '--format', 'text', '--run', runId, '--db', sim.db]);
    expect(diagram.code, diagram.stderr).toBe(0);
    expect(flat(diagram.stdout)).toContain(`Run ${runId}: ${failure} Next: ${next}`);
    expect(flat(diagram.stdout)).toContain('[!] KB steps 5-6 credential-set failed: the alpha string was refused (ALPHA_REJECTED) when the service was started');
    expect(flat(diagram.stdout)).toMatch(/\[ \] KB step 7 running not yet/);
    const out = path.join(sim.dir, 'run.svg');
    const svg = await runCli(['diagram', '--format', 'svg', '--run', runId, '--db', sim.db, '-o', out]);
    expect(svg.code, svg.stderr).toBe(0);
    const words = flat(Array.from(parseSvg(fs.readFileSync(out, 'utf8')).getElementsByTagName('text')).map((t) => t.textContent ?? '').join(' '));
    expect(words).toContain(`Run ${runId}: ${failure}`);
    expect(words).toContain('failed: the alpha string was refused (ALPHA_REJECTED) when the service was started');
    expect(words).toContain(`Next: ${next}`);

    // Next, followed as printed: the resume asks again, the right alpha string is typed, the KMS runs.
    const resumed = await onTerminal(sim, ['resume', runId], sim.alpha);
    expect(resumed.code, resumed.screen).toBe(0);
    expect(resumed.screen).toContain('is running: recovery complete');
    expect(resumed.screen).not.toContain(sim.alpha);
  }, cliLimit(9));
});

describe('a wrong alpha string on the startup disk', () => {
  it('Next says to insert the ORIGINAL startup disk, with the resume command that reads it', async () => {
    const sim = await simFixture();
    const disk = path.join(sim.dir, 'wrong-disk', 'Kmspwd.ini');
    fs.mkdirSync(path.dirname(disk));
    fs.writeFileSync(disk, `[config]\r\npwd=${wrongAlpha(sim)}\r\n`, 'latin1');
    const failed = await runCli(withTestSettle(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--db', sim.db, '--startup-disk', disk]));
    expect(failed.code, failed.stderr).toBe(4);
    const { runId, next } = await statusOf(sim);
    const resume = printedCommand(`kms-recover resume ${runId} --startup-disk ${disk}`, sim.db);
    expect(next).toBe(`The alpha string on the startup disk was refused. Insert the ORIGINAL server's startup disk (or type its alpha string when asked, without --startup-disk), then run: ${resume}`);
    expect(flat(failed.stdout)).toContain(`Next: ${next}`);
    // list reads how the alpha string was given from the same facts: the same next action.
    const list = parseJson<{ runId: string; next: string | null }[]>(await runCli(['list', '--json', '--db', sim.db]));
    expect(list.find((r) => r.runId === runId)?.next).toBe(next);
    // The original disk in its place, the printed command finishes the run.
    fs.copyFileSync(sim.startupDisk, disk);
    const resumed = await runCli(['resume', runId, '--startup-disk', disk, '--db', sim.db]);
    expect(resumed.code, `${resumed.stdout}${resumed.stderr}`).toBe(0);
  }, cliLimit(4));
});
