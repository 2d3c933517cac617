import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { fsKmsdataOperations } from '../../host/fs/index.js';
import { createSimHost, simPaths } from '../../host/sim/index.js';
import { FAIL_AFTER_FILE, HANG_STOP_FILE } from '../../host/sim/sim-layout.js';
import { KMS_SERVICE_NAME } from '../../host/types.js';
import { hostContract, type ContractServer } from '../contract/host-contract.js';
import { alphaOf, cleanupSimFixtures, simFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

const hangFiles: string[] = [];

/**
 * How long a stop may take: the case of a stop that hangs waits it out once; every other stop
 * must fit in it, on a busy machine too.
 */
const STOP_TIMEOUT_MS = 5000;

/** A simulated server as `kms-recover sim init` builds it: the reinstall's KMS running. */
async function simServer(): Promise<ContractServer> {
  const sim = await simFixture();
  const paths = simPaths(sim.root);
  const hangFile = path.join(paths.scm, HANG_STOP_FILE);
  hangFiles.push(hangFile);
  const failAfterFile = path.join(paths.scm, FAIL_AFTER_FILE);
  return {
    host: createSimHost(sim.root, fsKmsdataOperations, { stopTimeoutMs: STOP_TIMEOUT_MS }),
    service: KMS_SERVICE_NAME,
    missingService: 'KmsRecoverNoSuchService',
    kmsdata: sim.kmsdata,
    backup: sim.backup,
    alpha: sim.alpha,
    wrongAlpha: alphaOf(paths.reinstallDisk),
    hangStop: async (on) => {
      if (on) await fsp.writeFile(hangFile, '');
      else await fsp.rm(hangFile, { force: true });
    },
    failAfter: async (seconds) => {
      if (seconds === null) await fsp.rm(failAfterFile, { force: true });
      else await fsp.writeFile(failAfterFile, `${seconds}\n`);
    },
    // On Linux a folder holding an open file can always be renamed, and the file read: the
    // simulator models the KMS's lock for clear and restore only.
    differences: { renamesFolderHoldingOpenFile: true, readsFileHeldOpen: true },
    note: () => undefined,
  };
}

afterEach(async () => {
  // A daemon hanging in its stop is released first, then killed with the others.
  for (const file of hangFiles.splice(0)) await fsp.rm(file, { force: true });
  await cleanupSimFixtures();
});

// A case starts and stops the simulated KMS daemon (a node process, as costly as a CLI one) a few times.
describe('the Host contract against the simulator', { timeout: cliLimit(4, { waitMs: STOP_TIMEOUT_MS }) }, () => {
  for (const contractCase of hostContract) {
    it(contractCase.name, async () => {
      await contractCase.run(await simServer());
    });
  }
});
