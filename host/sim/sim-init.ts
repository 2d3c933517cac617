import { createCipheriv, createHash, randomInt, randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import { KMS_SERVICE_NAME } from '../types.js';
import { daemonEntryPath } from './daemon-entry.js';
import { makeKmsCheck } from './kms-check.js';
import { assertSimRoot, DEFAULT_SIM_COMPUTER_NAME, KMS_CHECK_FILE, KMS_DATABASE_FILE, simPaths, type SimPaths } from './sim-layout.js';
import { netbiosNameProblem } from '../../domain/index.js';
import { SimServiceManager } from './sim-service-manager.js';
import { writeServicesFile, type SimServicesFile } from './sim-state.js';

export interface SimInitOptions {
  /** More files, in sub-folders, added to the ORIGINAL Kmsdata (and so to the backup). */
  extraFiles?: number;
  /** Bytes spread over the extra files (one extra file if extraFiles is not given). */
  extraBytes?: number;
  /** The simulated computer's name (default KMS01). */
  computerName?: string;
}

export interface SimInitResult {
  root: string;
  /** The live Kmsdata (holding the REINSTALL's data after init). */
  kmsdata: string;
  /** The backup of the ORIGINAL Kmsdata. */
  backup: string;
  /** The ORIGINAL startup disk, `<root>/A/Kmspwd.ini`. */
  startupDisk: string;
  /** The simulated computer's name. */
  computerName: string;
}

const ALPHA_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALPHA_LENGTH = 14;
const EXTRA_FILES_PER_FOLDER = 100;

export function randomAlpha(): string {
  let alpha = '';
  for (let i = 0; i < ALPHA_LENGTH; i++) alpha += ALPHA_CHARS[randomInt(ALPHA_CHARS.length)];
  return alpha;
}

export function startupDiskText(alpha: string): string {
  return `[config]\r\npwd=${alpha}\r\n`;
}

/** `length` deterministic pseudo-random bytes for `seed` (AES-256-CTR keystream). */
export function pseudoRandomBytes(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(`kms-sim:${seed}`).digest();
  const iv = createHash('md5').update(`kms-sim-iv:${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

function certificate(seed: string, subject: string): string {
  const body = pseudoRandomBytes(seed, 720).toString('base64').replace(/.{64}/g, '$&\n').trimEnd();
  return `Subject: ${subject}\r\n-----BEGIN CERTIFICATE-----\r\n${body.replace(/\n/g, '\r\n')}\r\n-----END CERTIFICATE-----\r\n`;
}

function checkCount(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new KmsRecoverError('USAGE', `${name} must be a whole number of 0 or more`, { [name]: value });
  }
  return value;
}

/** Write a fresh Kmsdata for one KMS installation ("generation") with its alpha string. */
async function writeKmsdata(dir: string, generation: string, alpha: string, extraFiles: number, extraBytes: number): Promise<void> {
  const kmsId = randomUUID();
  await fsp.mkdir(path.join(dir, 'certs'), { recursive: true });
  const put = (rel: string, data: Buffer | string): Promise<void> => fsp.writeFile(path.join(dir, rel), data);
  await put(KMS_DATABASE_FILE, pseudoRandomBytes(`${generation}:${KMS_DATABASE_FILE}`, 48 * 1024));
  await put('kmsdata.chk', pseudoRandomBytes(`${generation}:kmsdata.chk`, 8 * 1024));
  await put('edb.log', pseudoRandomBytes(`${generation}:edb.log`, 16 * 1024));
  await put('res1.log', pseudoRandomBytes(`${generation}:res1.log`, 8 * 1024));
  await put('res2.log', pseudoRandomBytes(`${generation}:res2.log`, 8 * 1024));
  await put(KMS_CHECK_FILE, `${JSON.stringify(makeKmsCheck(alpha, kmsId))}\n`);
  await put(path.join('certs', 'ca.cer'), certificate(`${generation}:ca.cer`, 'CN=Exchange KMS CA'));
  await put(path.join('certs', 'kms.cer'), certificate(`${generation}:kms.cer:${kmsId}`, `CN=Key Management Server ${kmsId}`));

  if (extraFiles === 0) return;
  const base = Math.floor(extraBytes / extraFiles);
  const remainder = extraBytes % extraFiles;
  for (let i = 0; i < extraFiles; i++) {
    const folder = path.join('archive', String(Math.floor(i / EXTRA_FILES_PER_FOLDER)).padStart(3, '0'));
    if (i % EXTRA_FILES_PER_FOLDER === 0) await fsp.mkdir(path.join(dir, folder), { recursive: true });
    const size = base + (i < remainder ? 1 : 0);
    await put(path.join(folder, `rec${String(i).padStart(5, '0')}.dat`), pseudoRandomBytes(`${generation}:extra:${i}`, size));
  }
}

/** Copy a tree byte for byte (regular files and folders only). */
export async function copyTree(from: string, to: string): Promise<void> {
  await fsp.mkdir(to, { recursive: true });
  for (const entry of await fsp.readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) await copyTree(source, target);
    else if (entry.isFile()) await fsp.copyFile(source, target);
  }
}

async function refuseNonEmpty(paths: SimPaths): Promise<void> {
  let entries: string[];
  try {
    const stat = await fsp.stat(paths.root);
    if (!stat.isDirectory()) {
      throw new KmsRecoverError('SIM_INVALID', `${paths.root} is not a folder: cannot build a simulated host there`, { root: paths.root });
    }
    entries = await fsp.readdir(paths.root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (entries.length) {
    throw new KmsRecoverError('SIM_INVALID',
      `${paths.root} is not empty: a simulated host is only built in a new or empty folder`, { root: paths.root, entries: entries.length });
  }
}

/**
 * Build a simulated host at `root`: the ORIGINAL KMS (Kmsdata, alpha string, startup disk in
 * A:), the administrator's backup of it, then the REINSTALL: a fresh Kmsdata with a new alpha
 * string (its startup disk in reinstall-disk/), the KMS service registered (auto) and running.
 */
export async function initSimHost(root: string, opts: SimInitOptions = {}): Promise<SimInitResult> {
  let extraFiles = checkCount('extraFiles', opts.extraFiles);
  const extraBytes = checkCount('extraBytes', opts.extraBytes);
  if (extraBytes > 0 && extraFiles === 0) extraFiles = 1;
  const computerName = checkComputerName(opts.computerName ?? DEFAULT_SIM_COMPUTER_NAME);
  const paths = simPaths(root);
  daemonEntryPath(); // fail before building anything if the daemon cannot run
  await refuseNonEmpty(paths);
  await fsp.mkdir(paths.root, { recursive: true });

  // The original installation, and the administrator's backup of its Kmsdata.
  const originalAlpha = randomAlpha();
  await writeKmsdata(paths.kmsdata, 'original', originalAlpha, extraFiles, extraBytes);
  await copyTree(paths.kmsdata, paths.backup);
  await fsp.mkdir(paths.startupDiskDir, { recursive: true });
  await fsp.writeFile(paths.startupDisk, startupDiskText(originalAlpha), { mode: 0o600 });

  // The server was rebuilt: Exchange and the KMS reinstalled, with a new alpha string.
  let newAlpha = randomAlpha();
  while (newAlpha === originalAlpha) newAlpha = randomAlpha();
  await fsp.rm(paths.kmsdata, { recursive: true, force: true });
  await writeKmsdata(paths.kmsdata, 'reinstall', newAlpha, 0, 0);
  await fsp.mkdir(paths.reinstallDiskDir, { recursive: true });
  await fsp.writeFile(paths.reinstallDisk, startupDiskText(newAlpha), { mode: 0o600 });

  await fsp.mkdir(paths.scm, { recursive: true });
  await fsp.writeFile(paths.computerName, `${computerName}\n`);
  const services: SimServicesFile = {
    services: {
      [KMS_SERVICE_NAME]: {
        displayName: 'Microsoft Exchange Key Manager',
        startType: 'auto',
        state: 'stopped',
        pid: null,
        startedAt: null,
      },
    },
  };
  await writeServicesFile(paths.servicesFile, services);
  await new SimServiceManager(paths.root).startService(KMS_SERVICE_NAME, [newAlpha]);

  return { root: paths.root, kmsdata: paths.kmsdata, backup: paths.backup, startupDisk: paths.startupDisk, computerName };
}

/** A Windows computer name, as `sim init --computer-name` and `sim rename` take it. */
function checkComputerName(name: string): string {
  const problem = netbiosNameProblem(name);
  if (problem) throw new KmsRecoverError('USAGE', `"${name}" is not a Windows computer name: ${problem}`, { computerName: name });
  return name.toUpperCase();
}

/** `sim rename`: the simulated computer gets another name, as a rebuild under another name would give it. */
export async function renameSimHost(root: string, name: string): Promise<string> {
  const computerName = checkComputerName(name);
  const paths = assertSimRoot(root);
  await fsp.writeFile(`${paths.computerName}.tmp`, `${computerName}\n`);
  await fsp.rename(`${paths.computerName}.tmp`, paths.computerName);
  return computerName;
}

/** A new, empty folder under the system's temporary folder, for `kms-recover demo`. */
export async function temporarySimRoot(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'kms-recover-demo-'));
}
