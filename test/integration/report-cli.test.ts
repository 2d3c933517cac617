import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../recovery/report-facts.js';
import { expectExit } from '../helpers/expect-exit.js';
import { parseJson, runCli } from '../helpers/run-cli.js';
import { resumeWithDisk, startWithDiskArgs } from '../helpers/sim-cli.js';
import { disposeSimFixture, simFixture, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

/*
 * `kms-recover report` with real processes on the simulator: the three formats of a finished
 * run and of an interrupted one, read from the database without writing it, never holding the
 * alpha string, and never written into Kmsdata or the backup.
 */

let sim: SimFixture | undefined;
afterEach(async () => {
  if (sim) await disposeSimFixture(sim);
  sim = undefined;
});

/** The database's files with their bytes and times: what a read-only command leaves as it found. */
function databaseFiles(db: string): Record<string, string> {
  const dir = path.dirname(db);
  return Object.fromEntries(fs.readdirSync(dir).filter((n) => n.startsWith(path.basename(db))).sort()
    .map((n) => { const f = path.join(dir, n); return [n, `${fs.statSync(f).mtimeMs}:${fs.readFileSync(f).toString('base64')}`]; }));
}

describe('report', () => {
  it('of a finished run: HTML to a file named after the run in the current folder, Markdown and JSON with the same facts; the database untouched; no alpha string', async () => {
    sim = await simFixture();
    expectExit(await runCli(startWithDiskArgs(sim)), 0);
    const before = databaseFiles(sim.db);

    const html = await runCli(['report', '--db', sim.db], { cwd: sim.dir });
    expectExit(html, 0);
    const json = await runCli(['report', '--db', sim.db, '--format', 'json', '-o', '-']);
    expectExit(json, 0);
    const md = await runCli(['report', '--db', sim.db, '--format', 'md', '-o', path.join(sim.dir, 'ticket.md')]);
    expectExit(md, 0);
    expect(databaseFiles(sim.db), 'report never writes the database').toEqual(before);

    const facts = parseJson<RunReport>(json);
    const file = path.join(sim.dir, `kms-recover-report-${facts.run.id}.html`);
    expect(html.stdout).toContain(file);
    const page = fs.readFileSync(file, 'utf8');
    const ticket = fs.readFileSync(path.join(sim.dir, 'ticket.md'), 'utf8');

    expect(facts).toMatchObject({
      reportVersion: 1, run: { situation: 'finished', state: 'running' }, outcome: { recovered: true },
      backup: { folder: sim.backup }, server: { kmsdata: sim.kmsdata, serviceName: 'MSExchangeKMS', computerName: 'KMS01' },
      restore: { matchesBackup: true, mismatches: [] }, credential: { source: 'startup-disk' },
    });
    expect(facts.restore!.files).toBe(facts.backup.files);
    expect(facts.clear.moved.length).toBeGreaterThan(0);
    expect(facts.clear.deleted?.count).toBeGreaterThanOrEqual(facts.clear.moved.length);
    expect(facts.drivers).toHaveLength(1);
    expect(facts.settle?.pid).toEqual(expect.any(Number));

    // The same facts in words, in both formats.
    for (const text of [page, ticket]) {
      expect(text).toContain(facts.run.id);
      expect(text).toContain(facts.backup.digest);
      expect(text).toContain('Recovered: MSExchangeKMS has run for');
      for (const kb of ['KB step 1', 'KB step 2', 'KB step 3', 'KB step 4', 'KB steps 5-6', 'KB step 7']) expect(text).toContain(kb);
      for (const entry of facts.clear.moved) expect(text).toContain(entry.name);
    }
    // One file that needs nothing else: no script, no fetch of any kind, a policy that forbids them.
    expect(page).toContain('http-equiv="Content-Security-Policy"');
    expect(page).not.toMatch(/<script|<link|<img|\bsrc=|@import|url\((?!#)/i);
    expect(page).toMatch(/<svg[^>]*class="overview"/);
    expect(page).toMatch(/<svg[^>]*class="timeline"/);
    for (const text of [page, ticket, json.stdout]) expect(text).not.toContain(sim.alpha);
  }, cliLimit(4));

  it('of an interrupted run: says so at the top, and what to run next', async () => {
    sim = await simFixture();
    expectExit(await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: 'restore-after-file:1' } }), 'SIGKILL');
    const md = await runCli(['report', '--db', sim.db, '--format', 'md', '-o', '-']);
    expectExit(md, 0);
    expect(md.stdout).toMatch(/Not recovered yet: interrupted during KB step 4 \(restoreKmsdata\)/);
    expect(md.stdout).toMatch(/kms-recover resume [0-9a-f]{8}/);
    expect(md.stdout).toContain('cut off');
    // Then resumed: the same run's report tells the interruption and the process that went on.
    expectExit(await resumeWithDisk(sim), 0);
    const json = parseJson<RunReport>(await runCli(['report', '--db', sim.db, '--format', 'json', '-o', '-']));
    expect(json.run.situation).toBe('finished');
    expect(json.steps.find((s) => s.step === 'restoreKmsdata')!.attempts.map((a) => a.outcome)).toEqual(['cut-off', 'done']);
    expect(json.timeline.bars.some((b) => b.kind === 'no-driver')).toBe(true);
    expect(json.drivers.map((d) => d.how)).toEqual(['started', 'took over']);
  }, cliLimit(4));

  it('is never written into Kmsdata nor the backup, under any name (exit 3, nothing written)', async () => {
    sim = await simFixture();
    expectExit(await runCli(startWithDiskArgs(sim)), 0);
    const link = path.join(sim.dir, 'backup-link');
    fs.symlinkSync(sim.backup, link);
    for (const target of [path.join(sim.kmsdata, 'report.html'), path.join(link, 'report.html')]) {
      const refused = await runCli(['report', '--db', sim.db, '-o', target]);
      expectExit(refused, 3);
      expect(refused.stderr).toMatch(/would lie inside/);
      expect(fs.existsSync(target)).toBe(false);
    }
  }, cliLimit(3));

  it('bad input: an unknown run (exit 7) and an unknown format (exit 2), one line each', async () => {
    sim = await simFixture();
    expectExit(await runCli(startWithDiskArgs(sim)), 0);
    const unknown = await runCli(['report', 'ffffffff', '--db', sim.db, '-o', '-']);
    expectExit(unknown, 7);
    const format = await runCli(['report', '--db', sim.db, '--format', 'pdf']);
    expectExit(format, 2);
    for (const r of [unknown, format]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, cliLimit(3));
});
