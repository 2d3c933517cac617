import { expect as globalExpect, type ExpectStatic } from 'vitest';
import { SimServiceManager } from '../../host/sim/index.js';
import { KMS_SERVICE_NAME } from '../../domain/index.js';
import type { RunStatus } from '../../recovery/run-status.js';
import { parseJson, runCli, withTestSettle, type CliOptions, type CliResult } from './run-cli.js';
import type { SimFixture } from './sim-fixture.js';

/** The CLI commands the tests run on a simulated server, as an operator types them. */

/**
 * `kms-recover start` on the fixture's Kmsdata and backup, into its database (or `db`), then
 * `extra`. No alpha string source: add `--startup-disk` (see `startWithDiskArgs`) or give
 * `KMS_ALPHA_STRING`.
 */
export function startArgs(sim: SimFixture, extra: string[] = [], db = sim.db): string[] {
  return withTestSettle(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--db', db, ...extra]);
}

/** `start` with the original startup disk (`--startup-disk <Kmspwd.ini>`). */
export function startWithDiskArgs(sim: SimFixture, extra: string[] = [], db = sim.db): string[] {
  return startArgs(sim, ['--startup-disk', sim.startupDisk, ...extra], db);
}

/** `kms-recover resume [extra] --db <db> --startup-disk <Kmspwd.ini>`. */
export function resumeWithDisk(sim: SimFixture, extra: string[] = [], options: CliOptions = {}, db = sim.db): Promise<CliResult> {
  return runCli(['resume', ...extra, '--db', db, '--startup-disk', sim.startupDisk], options);
}

/**
 * `kms-recover status --json` of the latest run (or in `db`), which must exit 0. A test running
 * concurrently with others passes its own `expect`.
 */
export async function statusOf(sim: SimFixture, expect: ExpectStatic = globalExpect, db = sim.db): Promise<RunStatus> {
  const result = await runCli(['status', '--json', '--db', db]);
  expect(result.code, result.stderr).toBe(0);
  return parseJson<RunStatus>(result);
}

/**
 * The state of the simulated KMS service, as `kms-recover sim status` reports it: asked of the
 * simulator's service manager in this process (the same query, without a process per look).
 */
export async function serviceState(sim: SimFixture): Promise<string> {
  return (await new SimServiceManager(sim.root).queryService(KMS_SERVICE_NAME)).state;
}

/** A well-formed alpha string (14 characters) that is not the fixture's original one. */
export function wrongAlpha(sim: SimFixture): string {
  return sim.alpha === 'ABCDEFGHIJKLMN' ? 'NMLKJIHGFEDCBA' : 'ABCDEFGHIJKLMN';
}

/** The id of the latest run in the fixture's database (or in `db`). */
export async function runIdOf(sim: SimFixture, db = sim.db): Promise<string> {
  return (await statusOf(sim, globalExpect, db)).runId;
}
