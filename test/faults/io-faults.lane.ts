import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, type ExpectStatic } from 'vitest';
import { exitStatusFor, isErrorCode } from '../../errors/index.js';
import type { RunStatus } from '../../recovery/run-status.js';
import { concurrencyLimit, treeDigest } from '../crash/crash-checks.js';
import { campaignSeed, envCount } from '../helpers/kill-schedule.js';
import { CLI, cliEnv, REPO_ROOT, runCli, type CliResult } from '../helpers/run-cli.js';
import { serviceState, startWithDiskArgs } from '../helpers/sim-cli.js';
import { disposeSimFixture, simFixture, type SimFixture } from '../helpers/sim-fixture.js';
import { describePlan, faultPlan, fiuRunArgs, type FaultPlan } from './fault-plan.js';

/*
 * The fault lane (npm run test:faults): `kms-recover start` on a simulated server under libfiu,
 * EIO injected at random into its pwrite, fsync/fdatasync or rename calls, then `resume` without
 * faults. Only the tool's process gets the faults: the simulated KMS daemon is started with an
 * explicit environment (no LD_PRELOAD reaches it), and stands for Microsoft's service, whose
 * own disk is not what this lane tests.
 *
 * Invariants, after every trial: the backup never changes (byte-equal); a run that says
 * `running` has Kmsdata byte-equal to the backup; every failure is one line with a documented
 * code (never INTERNAL) and that code's exit status; every run finishes on resume, its server
 * released and its per-run folders gone.
 */

const SEED = campaignSeed({ KMS_RECOVER_KILL_SEED: process.env.KMS_RECOVER_FAULT_SEED });
const TRIALS = envCount('KMS_RECOVER_FAULT_TRIALS', 20);
/** A trial's `start` under faults that has not ended by then is killed (and the trial fails). */
const TRIAL_LIMIT_MS = 60_000;
/** A default server with more backup files: more of the restore's writes and flushes to hit. */
const INIT_ARGS = ['--extra-files', '30'];

interface Outcome {
  plan: FaultPlan;
  /** `failed`: the start under faults did not end `running`; `absorbed`: it did, after a failure it recorded (a retry); `untouched`: no sign of a fault. */
  kind: 'failed' | 'absorbed' | 'untouched';
  code: string | null;
  exit: number | null;
  /** What the failure said (its one line, or the run's last error). */
  said: string;
}

const outcomes: Outcome[] = [];

/** `kms-recover <args>` under `fiu-run` with the plan's failure points, killed at TRIAL_LIMIT_MS. */
function underFaults(plan: FaultPlan, args: string[]): Promise<CliResult> {
  const child = spawn('fiu-run', [...fiuRunArgs(plan), process.execPath, CLI, ...args], {
    cwd: REPO_ROOT, env: cliEnv({ FIU_PRNG_SEED: String(plan.fiuSeed) }), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const limit = setTimeout(() => child.kill('SIGKILL'), TRIAL_LIMIT_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => { clearTimeout(limit); resolve({ code, signal, stdout, stderr }); });
  });
}

/** The error code a failed command reports on stdout with --json: its `{ error }`, or its run's last error. */
function reportedCode(result: CliResult): string | null {
  try {
    const parsed = JSON.parse(result.stdout) as { error?: { code?: string }; lastError?: { code?: string } | null };
    return parsed.error?.code ?? parsed.lastError?.code ?? null;
  } catch {
    return null;
  }
}

async function statusJson(sim: SimFixture): Promise<RunStatus | null> {
  const result = await runCli(['status', '--json', '--db', sim.db]);
  return result.code === 0 ? JSON.parse(result.stdout) as RunStatus : null;
}

function errorEvents(sim: SimFixture): number {
  if (!fs.existsSync(sim.log)) return 0;
  return fs.readFileSync(sim.log, 'utf8').split('\n').filter((line) => /"msg":"step failed"/.test(line)).length;
}

async function trial(plan: FaultPlan, expectOf: ExpectStatic): Promise<void> {
  // Every invariant is checked and reported, not only the first that fails.
  const soft = expectOf.soft;
  const sim = await simFixture(INIT_ARGS);
  const what = `trial ${plan.index} (${describePlan(plan)}; campaign seed ${SEED})`;
  try {
    const backup = treeDigest(sim.backup);
    const faulted = await underFaults(plan, [...startWithDiskArgs(sim), '--json']);
    soft(faulted.signal, `${what}: the start under faults did not end within ${TRIAL_LIMIT_MS} ms`).toBeNull();
    soft(treeDigest(sim.backup), `${what}: the backup changed`).toEqual(backup);

    const code = reportedCode(faulted);
    const errorLines = faulted.stderr.split('\n').filter((line) => line.startsWith('kms-recover:'));
    if (faulted.code !== 0) {
      soft(code, `${what}: exit ${faulted.code} without a code on stdout: ${faulted.stdout.slice(0, 300)} ${faulted.stderr.slice(-300)}`).not.toBeNull();
      if (code !== null) {
        soft(isErrorCode(code) && code !== 'INTERNAL', `${what}: ${code} is not a documented code for an I/O error: ${errorLines.join(' | ')}`).toBe(true);
        soft(faulted.code, `${what}: ${code} exits ${exitStatusFor(code)}`).toBe(exitStatusFor(code));
      }
      // A refusal or a database that failed under the command: one line on stderr. A step that
      // failed: the run's checklist on stdout (--json), no error line.
      soft(errorLines.length, `${what}: error lines: ${errorLines.join(' | ')}`).toBeLessThanOrEqual(1);
    }
    const afterFaults = await statusJson(sim);
    // What the run recorded is what `status` tells the administrator: a documented code too.
    soft(afterFaults?.lastError?.code, `${what}: the run recorded ${afterFaults?.lastError?.message}`).not.toBe('INTERNAL');
    if (afterFaults?.state === 'running') {
      soft(treeDigest(sim.kmsdata), `${what}: the run says running but Kmsdata differs from the backup`).toEqual(backup);
    }

    // Resume without faults; with no run (the database failed before the run was created), a
    // new start must find the server unclaimed and recover it.
    let finished = await runCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    if (finished.code === 7 && afterFaults === null) finished = await runCli(startWithDiskArgs(sim));
    if (faulted.code === 0 && finished.code === 7) finished = { ...finished, code: 0 }; // it had finished already
    soft(finished.code, `${what}: the run did not finish on resume: ${finished.stderr.slice(-400)}`).toBe(0);
    const view = await statusJson(sim);
    soft(view?.state, `${what}: state after resume`).toBe('running');
    soft(view?.closedAt, `${what}: the run is not closed after resume`).not.toBeNull();
    soft(treeDigest(sim.kmsdata), `${what}: Kmsdata after resume`).toEqual(backup);
    soft(treeDigest(sim.backup), `${what}: the backup changed`).toEqual(backup);
    soft(await serviceState(sim), `${what}: the KMS after resume`).toBe('running');
    const exchsrvr = path.dirname(sim.kmsdata);
    soft(fs.readdirSync(exchsrvr).filter((n) => n !== 'Kmsdata' && !fs.statSync(path.join(exchsrvr, n)).isFile()), `${what}: folders left beside Kmsdata`).toEqual([]);
    soft(fs.existsSync(path.join(exchsrvr, 'kms-recover.claim')), `${what}: the claim is left`).toBe(false);

    const kind = faulted.code !== 0 ? 'failed' : errorEvents(sim) > 0 ? 'absorbed' : 'untouched';
    outcomes.push({ plan, kind, code, exit: faulted.code, said: errorLines[0] ?? afterFaults?.lastError?.message ?? '' });
  } finally {
    await disposeSimFixture(sim);
  }
}

describe(`I/O faults during a recovery (campaign seed ${SEED}, ${TRIALS} trials; KMS_RECOVER_FAULT_SEED=${SEED} replays it)`, () => {
  const slot = concurrencyLimit(2);
  const plans = faultPlan(SEED, TRIALS);

  afterAll(() => {
    const count = (kind: Outcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
    const codes = new Map<string, number>();
    for (const o of outcomes) if (o.kind === 'failed') codes.set(`${o.code} (exit ${o.exit})`, (codes.get(`${o.code} (exit ${o.exit})`) ?? 0) + 1);
    process.stdout.write(`\nfault lane, seed ${SEED}: ${outcomes.length} trials: ${count('failed')} failed under faults, ${count('absorbed')} absorbed a fault (a step failed and was retried), ${count('untouched')} passed untouched\n`);
    for (const [code, n] of [...codes].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${n} x ${code}\n`);
    for (const o of [...outcomes].sort((a, b) => a.plan.index - b.plan.index)) {
      process.stdout.write(`  trial ${o.plan.index} (${describePlan(o.plan)}): ${o.kind}${o.code ? ` ${o.code}, exit ${o.exit}: ${o.said.slice(0, 240)}` : ''}\n`);
    }
  });

  it.concurrent.for(plans.map((plan) => ({ plan, name: describePlan(plan) })))('trial $plan.index: $name', { timeout: 5 * TRIAL_LIMIT_MS }, async ({ plan }, { expect: expectOf }) => {
    await slot(() => trial(plan, expectOf));
  });

  it('the faults were really injected: some trials failed under them', () => {
    // Run after the trials (concurrent tests of a describe settle before the next plain one).
    expect(outcomes.length).toBe(TRIALS);
    expect(outcomes.filter((o) => o.kind !== 'untouched').length).toBeGreaterThan(TRIALS / 4);
  });
});
