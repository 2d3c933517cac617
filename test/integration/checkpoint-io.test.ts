import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { readAlpha } from '../../cli/alpha-input.js';
import { KmsRecoverError } from '../../errors/index.js';
import { chooseAdapter, createHost } from '../../host/create-host.js';
import { currentProcess } from '../../host/process-identity.js';
import { KMS_SERVICE_NAME } from '../../host/types.js';
import { openDatabase, RunLeases, RunStore } from '../../persistence/index.js';
import { holderIsAlive } from '../../recovery/lease-policy.js';
import type { ProgressSink } from '../../recovery/progress.js';
import { prepareRun, startRun } from '../../recovery/start-run.js';
import { resumeWithDisk, serviceState, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

const quiet: ProgressSink = { stepStarted() {}, working() {}, reached() {}, stepFailed() {}, note() {} };

/*
 * A checkpoint the database's disk fails (the fault lane's SQLITE_IOERR_FSYNC, here raised inside
 * the checkpoint's UPDATE as better-sqlite3 raises it): the drive ends with DB_IO, the run stays
 * at its last committed state with no error of the tool's own recorded after it, and resume
 * finishes the recovery.
 */
describe('a checkpoint whose write the disk fails', () => {
  it('ends the drive with DB_IO; nothing is committed after it; resume finishes', async () => {
    const sim = await simFixture();
    const adapter = chooseAdapter('sim', { kmsdata: sim.kmsdata });
    const host = await createHost(adapter);
    const { db } = openDatabase(sim.db);
    try {
      const store = new RunStore(db);
      const prepared = await prepareRun({
        host, openStore: () => store, dbPath: sim.db, files: { db: sim.db, log: `${sim.db}.log`, startupDisk: sim.startupDisk }, adapterName: adapter.name, kmsdata: sim.kmsdata, backup: sim.backup, serviceName: KMS_SERVICE_NAME,
        readAlpha: () => readAlpha(sim.startupDisk), progress: quiet, options: {},
      });
      // The checkpoint that enters `stopped` (KB step 2 done) fails once, as a failed fsync would.
      let failed = false;
      db.function('disk_fails_once', () => {
        if (failed) return 0;
        failed = true;
        throw new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_FSYNC');
      });
      db.exec(`CREATE TEMP TRIGGER checkpoint_fails BEFORE UPDATE OF state ON main.runs
        WHEN NEW.state = 'stopped' AND OLD.state <> 'stopped' BEGIN SELECT disk_fails_once(); END;`);
      const drive = startRun(prepared, {
        store, leases: new RunLeases(db), host, logger: pino({ level: 'silent' }), me: currentProcess(), isAlive: holderIsAlive,
        adapter, progress: quiet, dbPath: sim.db,
      });
      const error = await drive.then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(KmsRecoverError);
      expect((error as KmsRecoverError).code).toBe('DB_IO');
      expect((error as KmsRecoverError).message).toContain('while writing a checkpoint');
      // Let any work the machine had started settle before looking.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const run = store.latestRun()!;
      expect(run.state).toBe('reinstalled');
      const events = store.events(run.id);
      expect(events.map((e) => e.event)).not.toContain('xstate.error.actor.clearKmsdata');
      expect(JSON.stringify(events)).not.toContain('INTERNAL');
    } finally {
      db.close();
    }
    const resumed = await resumeWithDisk(sim);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await statusOf(sim)).state).toBe('running');
    expect(await serviceState(sim)).toBe('running');
  }, cliLimit(2));
});
