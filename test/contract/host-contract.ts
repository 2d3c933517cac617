import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ClearOptions, Host, LedgerEntry } from '../../host/types.js';
import { settleWindow } from '../../recovery/settle-window.js';

/*
 * The behaviour every Host must have, written once and run against each implementation: the
 * simulator in `npm test` (vitest, test/integration/host-contract-sim.test.ts) and the windows
 * adapter against wine's service control manager in `npm run test:windows`
 * (test/windows/lane/contract-wine.ts, node:test under Windows node.exe). Framework-free on
 * purpose: plain async functions and node:assert, so both runners run the same code.
 */

/** A server as a contract case finds it: the REINSTALLED KMS running, the ORIGINAL's backup apart. */
export interface ContractServer {
  host: Host;
  /** The KMS service, installed and running on the reinstall's Kmsdata. */
  service: string;
  /** A service name that is installed nowhere. */
  missingService: string;
  kmsdata: string;
  /** The backup of the ORIGINAL server's Kmsdata. */
  backup: string;
  /** The ORIGINAL server's alpha string: the one the backup takes. */
  alpha: string;
  /** The reinstall's alpha string: the one the live Kmsdata takes, wrong for the backup. */
  wrongAlpha: string;
  /** While on, the KMS answers a stop request and never finishes stopping (STOP_PENDING). */
  hangStop(on: boolean): Promise<void>;
  /** While set, a started KMS reports RUNNING, then stops by itself this many seconds later with service specific error 1 (null: off). */
  failAfter(seconds: number | null): Promise<void>;
  /** Where this implementation is known to differ from Windows; the cases that meet it say so. */
  differences: {
    /** Wine (unlike Windows) lets a folder be renamed while a file in it is held open without sharing. */
    renamesFolderHoldingOpenFile: boolean;
    /** The simulator (unlike Windows) lets a file the KMS holds open without sharing be read. */
    readsFileHeldOpen: boolean;
  };
  /** Notes a case records about a difference it met (printed by the runner). */
  note(text: string): void;
}

export interface ContractCase {
  name: string;
  run(server: ContractServer): Promise<void>;
}

/** The rejection of `promise` as a KmsRecoverError-shaped object (fails if it resolves). */
async function rejected(promise: Promise<unknown>): Promise<{ code: string; message: string; detail: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown; detail?: unknown };
    assert.equal(typeof e.code, 'string', `expected a KmsRecoverError, got ${String(error)}`);
    return { code: e.code as string, message: String(e.message), detail: (e.detail ?? {}) as Record<string, unknown> };
  }
  assert.fail('expected a rejection');
}

/** Every file under `dir`, relative with `/`, sorted. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await fsp.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(child);
      else out.push(child);
    }
  };
  await walk('');
  return out.sort();
}

function assertNoAlpha(server: ContractServer, error: { message: string; detail: Record<string, unknown> }): void {
  const text = `${error.message} ${JSON.stringify(error.detail)}`;
  for (const alpha of [server.alpha, server.wrongAlpha]) assert.ok(!text.includes(alpha), 'an alpha string leaked into an error');
}

const RUN_ID = 'contract-run';

/** The clear's options as a run gives them: the folder as found now, the ledger kept here (as SQLite would). */
function ledgerFor(): { ledger: LedgerEntry[]; options: ClearOptions } {
  const ledger: LedgerEntry[] = [];
  return { ledger, options: { expected: null, record: (entries) => { ledger.push(...entries); } } };
}

export const hostContract: readonly ContractCase[] = [
  {
    name: 'query: a service that is not installed is missing',
    async run(s) {
      const status = await s.host.queryService(s.missingService);
      assert.equal(status.state, 'missing');
    },
  },
  {
    name: 'query: the running KMS is running',
    async run(s) {
      const status = await s.host.queryService(s.service);
      assert.equal(status.state, 'running');
    },
  },
  {
    name: 'stop: running -> stopped; stopping a stopped service leaves it stopped',
    async run(s) {
      assert.equal((await s.host.stopService(s.service)).state, 'stopped');
      assert.equal((await s.host.queryService(s.service)).state, 'stopped');
      assert.equal((await s.host.stopService(s.service)).state, 'stopped');
    },
  },
  {
    name: 'stop: a service that hangs while stopping is SERVICE_STOP_FAILED, and stops once it is released',
    async run(s) {
      await s.hangStop(true);
      const error = await rejected(s.host.stopService(s.service));
      assert.equal(error.code, 'SERVICE_STOP_FAILED');
      assert.notEqual((await s.host.queryService(s.service)).state, 'stopped');
      await s.hangStop(false);
      assert.equal((await s.host.stopService(s.service)).state, 'stopped');
    },
  },
  {
    name: 'clear: while the KMS holds kmsdata.edb open it is FILE_IN_USE, and nothing is lost',
    async run(s) {
      const before = await files(s.kmsdata);
      const error = await rejected(s.host.clearKmsdata(s.kmsdata, RUN_ID, ledgerFor().options));
      assert.equal(error.code, 'FILE_IN_USE');
      assert.equal(path.basename(String(error.detail.file)).toLowerCase(), 'kmsdata.edb');
      assert.ok((await files(s.kmsdata)).includes('kmsdata.edb'), 'the held file is still in Kmsdata');
      // What the clear moved before it met the held file is in the quarantine, not gone.
      const quarantine = path.join(path.dirname(s.kmsdata), `Kmsdata.quarantine-${RUN_ID}`);
      const moved = await files(quarantine).catch(() => [] as string[]);
      assert.deepEqual([...(await files(s.kmsdata)), ...moved].sort(), before);
    },
  },
  {
    name: 'restore: after stop and clear, the backup stands in Kmsdata, verified',
    async run(s) {
      await s.host.stopService(s.service);
      const manifest = await s.host.manifest(s.backup);
      const cleared = await s.host.clearKmsdata(s.kmsdata, RUN_ID, ledgerFor().options);
      assert.equal(cleared.remaining, 0);
      assert.ok(cleared.removed > 0);
      const report = await s.host.restoreKmsdata(s.backup, s.kmsdata, manifest, RUN_ID);
      assert.deepEqual(report.mismatches, []);
      assert.equal(report.digest, manifest.digest);
      assert.equal((await s.host.verifyKmsdata(s.kmsdata, manifest)).matches, true);
    },
  },
  {
    name: 'recovery sequence: stop, clear, restore, start with the ORIGINAL alpha string -> running',
    async run(s) {
      const manifest = await s.host.manifest(s.backup);
      assert.equal((await s.host.stopService(s.service)).state, 'stopped');
      const { ledger, options } = ledgerFor();
      assert.equal((await s.host.clearKmsdata(s.kmsdata, RUN_ID, options)).remaining, 0);
      assert.ok(ledger.length > 0, 'every entry moved aside is in the ledger');
      assert.deepEqual((await s.host.restoreKmsdata(s.backup, s.kmsdata, manifest, RUN_ID)).mismatches, []);
      assert.equal((await s.host.verifyKmsdata(s.kmsdata, manifest)).matches, true);
      assert.equal((await s.host.startService(s.service, [s.alpha])).state, 'running');
      assert.equal((await s.host.queryService(s.service)).state, 'running');
      const removal = await s.host.removeQuarantine(s.kmsdata, RUN_ID, ledger);
      assert.deepEqual(removal.kept, []);
      assert.ok(removal.removed.length > 0);
    },
  },
  {
    name: 'verify: while the KMS runs, kmsdata.edb cannot be read (Windows: share mode 0); the simulator reads it',
    async run(s) {
      const manifest = await s.host.manifest(s.kmsdata).catch((error: unknown) => error as { code?: string });
      if (s.differences.readsFileHeldOpen) {
        assert.ok('digest' in manifest, 'this implementation was said to read a held file');
        s.note('the simulator reads kmsdata.edb while its KMS holds it open; Windows refuses the read (FILE_IN_USE)');
      } else {
        assert.equal((manifest as { code?: string }).code, 'FILE_IN_USE');
      }
    },
  },
  {
    name: 'start: the wrong alpha string is ALPHA_REJECTED, leaks nowhere, and the service stays stopped',
    async run(s) {
      const manifest = await s.host.manifest(s.backup);
      await s.host.stopService(s.service);
      await s.host.clearKmsdata(s.kmsdata, RUN_ID, ledgerFor().options);
      await s.host.restoreKmsdata(s.backup, s.kmsdata, manifest, RUN_ID);
      const error = await rejected(s.host.startService(s.service, [s.wrongAlpha]));
      assert.equal(error.code, 'ALPHA_REJECTED');
      assertNoAlpha(s, error);
      assert.equal((await s.host.queryService(s.service)).state, 'stopped');
      // Nothing was changed by the failed start: the right alpha string still starts it.
      assert.equal((await s.host.startService(s.service, [s.alpha])).state, 'running');
    },
  },
  {
    name: 'settle: a KMS that stops within the settle window is not running; one that stays proves the restored database',
    async run(s) {
      const manifest = await s.host.manifest(s.backup);
      await s.host.stopService(s.service);
      await s.host.clearKmsdata(s.kmsdata, RUN_ID, ledgerFor().options);
      await s.host.restoreKmsdata(s.backup, s.kmsdata, manifest, RUN_ID);
      const restoredDatabase = await s.host.databaseIdentity(s.kmsdata);
      assert.ok(restoredDatabase, 'the restore left a kmsdata.edb');
      const window = (seconds: number, since: Date) => settleWindow({
        host: s.host, serviceName: s.service, kmsdata: s.kmsdata, since, seconds, restoredDatabase,
        backupDatabaseId: null, alpha: s.alpha, signal: new AbortController().signal, pollMs: 200,
      });

      await s.failAfter(1);
      let since = new Date();
      assert.equal((await s.host.startService(s.service, [s.alpha])).state, 'running', 'it reports RUNNING first');
      const error = await rejected(window(6, since));
      assert.equal(error.code, 'ALPHA_REJECTED', error.message);
      assert.equal(error.detail.when, 'settle');
      assert.equal(error.detail.win32ExitCode, 1066);
      assert.equal(error.detail.serviceExitCode, 1);
      assert.match(error.message, /the alpha string is wrong or missing/);
      assert.match(error.message, /Log On account is wrong/);
      assertNoAlpha(s, error);
      assert.equal((await s.host.queryService(s.service)).state, 'stopped');

      await s.failAfter(null);
      since = new Date();
      const started = await s.host.startService(s.service, [s.alpha]);
      assert.equal(started.state, 'running');
      const proof = await window(1, since);
      assert.deepEqual(proof.heldDatabase, restoredDatabase, 'the KMS holds the very file the restore wrote');
      assert.equal(proof.restoredFile, true);
      if (started.pid !== undefined) assert.equal(proof.pid, started.pid);
    },
  },
  {
    name: 'start: a running service is left as it is',
    async run(s) {
      const before = await s.host.queryService(s.service);
      assert.equal(before.state, 'running');
      const after = await s.host.startService(s.service, [s.wrongAlpha]);
      assert.equal(after.state, 'running');
      if (before.pid !== undefined) assert.equal(after.pid, before.pid, 'no second instance was started');
    },
  },
  {
    name: 'clear: the Kmsdata folder itself cannot be moved away while the KMS holds a file in it (Windows), wine allows it',
    async run(s) {
      // Not a Host method: what the file system under the host does, which the clear's design
      // (move the entries, never the folder) relies on. Said, not hidden, where wine differs.
      const aside = `${s.kmsdata}.contract-aside`;
      let renamed = false;
      try {
        await fsp.rename(s.kmsdata, aside);
        renamed = true;
      } catch (error) {
        assert.ok(['EBUSY', 'EPERM', 'EACCES'].includes(String((error as NodeJS.ErrnoException).code)), String(error));
      }
      if (renamed) await fsp.rename(aside, s.kmsdata);
      if (s.differences.renamesFolderHoldingOpenFile) {
        assert.equal(renamed, true, 'this implementation was said to allow the rename');
        s.note('the Kmsdata folder was renamed while the KMS held kmsdata.edb open without sharing (wine, Linux); Windows refuses that rename');
      } else {
        assert.equal(renamed, false, 'the folder was renamed while a file in it was held open');
      }
    },
  },
];
