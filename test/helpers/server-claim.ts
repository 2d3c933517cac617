import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { CliResult } from './run-cli.js';
import { serviceState } from './sim-cli.js';
import { treeBytes, type SimFixture } from './sim-fixture.js';

/** The server's claim, `Exchsrvr\kms-recover.claim`, beside Kmsdata. */
export const claimFile = (sim: SimFixture) => path.join(path.dirname(sim.kmsdata), 'kms-recover.claim');

/** What stands in Exchsrvr beside Kmsdata (quarantines, staging, the claim), sorted. */
export const exchsrvrEntries = (sim: SimFixture) => fs.readdirSync(path.dirname(sim.kmsdata)).sort();

/** The record a finished recovery leaves beside Kmsdata (which run, when, from which database). */
export const recoveryRecordFile = (sim: SimFixture) => path.join(path.dirname(sim.kmsdata), 'kms-recover.recovered');

/** What stands in Exchsrvr after a recovery: Kmsdata and the record of the recovery, no quarantine, staging or claim. */
export const RECOVERED_EXCHSRVR = ['Kmsdata', 'kms-recover.recovered'];

/** The record of the recovery, as the finish left it. */
export function recoveryRecord(sim: SimFixture): { runId: string; db: string; host: string; recoveredAt: string; kmsdata: string } {
  return JSON.parse(fs.readFileSync(recoveryRecordFile(sim), 'utf8')) as ReturnType<typeof recoveryRecord>;
}

/** The server ended as the KB wants it: the original KMS running on a Kmsdata equal to the backup, nothing left beside it but the record. */
export async function expectServerRecovered(sim: SimFixture): Promise<void> {
  expect(await serviceState(sim)).toBe('running');
  expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  expect(exchsrvrEntries(sim)).toEqual(RECOVERED_EXCHSRVR);
}

/** Exit 5 and one error line naming the run (progress lines before it are the checks it passed). */
export function expectRefusedByClaim(result: CliResult, runId: string): void {
  expect(result.code, result.stderr).toBe(5);
  const errors = result.stderr.trim().split('\n').filter((l) => l.startsWith('kms-recover:'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toContain(`run ${runId}`);
}
