import { createHash, randomBytes, randomInt } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { createWindowsHost, type WindowsHostOptions } from '../../../host/windows/index.js';
import { KMS_SERVICE_NAME, type Host } from '../../../host/types.js';
import type { ContractServer } from '../../contract/host-contract.js';

/*
 * A ContractServer on wine's service control manager: the KMS stand-in
 * (test/windows/kms-standin) registered as MSExchangeKMS by setup-lane.sh, its config file at
 * `<work>\standin.conf`. Runs inside Windows node.exe; paths are Windows paths (Z:\...).
 */

const ALPHA_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export type StandinMode = 'normal' | 'hang-stop' | 'fail-start';

function randomAlpha(): string {
  let alpha = '';
  for (let i = 0; i < 14; i++) alpha += ALPHA_CHARS[randomInt(ALPHA_CHARS.length)];
  return alpha;
}

/** `sha256:<salt>:<SHA-256(salt || alpha)>`: what the stand-in checks the start parameter against. */
export function alphaCheck(alpha: string): string {
  const salt = randomBytes(16);
  return `sha256:${salt.toString('hex')}:${createHash('sha256').update(salt).update(alpha, 'utf8').digest('hex')}\r\n`;
}

/** A Kmsdata tree of one KMS installation: a database, logs, certificates, its alpha check. */
async function writeKmsdata(dir: string, generation: string, alpha: string): Promise<void> {
  await fsp.mkdir(path.join(dir, 'certs'), { recursive: true });
  await fsp.writeFile(path.join(dir, 'kmsdata.edb'), randomBytes(48 * 1024));
  await fsp.writeFile(path.join(dir, 'kmsdata.chk'), randomBytes(8 * 1024));
  await fsp.writeFile(path.join(dir, 'edb.log'), randomBytes(16 * 1024));
  await fsp.writeFile(path.join(dir, 'certs', 'kms.cer'), `Subject: CN=Key Management Server ${generation}\r\n`);
  await fsp.writeFile(path.join(dir, 'kmsalpha.chk'), alphaCheck(alpha));
}

export interface WineLane {
  /** `<cache>\work`, where the stand-in's config file is. */
  work: string;
  hostOptions: WindowsHostOptions;
}

export interface WineServer extends ContractServer {
  dir: string;
  setMode(mode: StandinMode): Promise<void>;
  cleanup(): Promise<void>;
  notes: string[];
}

let serial = 0;

/** A fresh server: the reinstall's Kmsdata live and its KMS started, the ORIGINAL's backup apart. */
export async function wineServer(lane: WineLane): Promise<WineServer> {
  const dir = path.join(lane.work, `server-${process.pid}-${++serial}`);
  const kmsdata = path.join(dir, 'Exchsrvr', 'Kmsdata');
  const backup = path.join(dir, 'backup', 'Kmsdata');
  const alpha = randomAlpha();
  let wrongAlpha = randomAlpha();
  while (wrongAlpha === alpha) wrongAlpha = randomAlpha();
  await writeKmsdata(backup, 'original', alpha);
  await writeKmsdata(kmsdata, 'reinstall', wrongAlpha);

  const configFile = path.join(lane.work, 'standin.conf');
  let failAfterSeconds: number | null = null;
  let currentMode: StandinMode = 'normal';
  const writeConfig = (): Promise<void> => fsp.writeFile(configFile,
    `kmsdata=${kmsdata}\r\nmode=${currentMode}\r\nlog=${path.join(lane.work, 'standin.log')}\r\n${failAfterSeconds ? `fail_after=${failAfterSeconds}\r\n` : ''}`);
  const setMode = (mode: StandinMode): Promise<void> => {
    currentMode = mode;
    return writeConfig();
  };

  const host: Host = createWindowsHost(lane.hostOptions);
  // A previous server's KMS may still run: stop it before pointing the stand-in here.
  await setMode('normal');
  await host.stopService(KMS_SERVICE_NAME);
  await host.startService(KMS_SERVICE_NAME, [wrongAlpha]);
  const notes: string[] = [];

  return {
    host,
    service: KMS_SERVICE_NAME,
    missingService: 'KmsRecoverNoSuchService',
    kmsdata,
    backup,
    alpha,
    wrongAlpha,
    dir,
    hangStop: (on) => setMode(on ? 'hang-stop' : 'normal'),
    failAfter: (seconds) => {
      failAfterSeconds = seconds;
      return writeConfig();
    },
    setMode,
    differences: { renamesFolderHoldingOpenFile: true, readsFileHeldOpen: false },
    notes,
    note: (text) => { notes.push(text); },
    async cleanup() {
      failAfterSeconds = null;
      await setMode('normal');
      await host.stopService(KMS_SERVICE_NAME).catch(() => undefined);
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}
