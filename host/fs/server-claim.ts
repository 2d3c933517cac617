import { readFileSync, statSync } from 'node:fs';
import { link, lstat, open, readdir, readFile, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import type { ClaimOutcome, ServerClaim } from '../types.js';
import { pidExists } from '../process-identity.js';
import { besideKmsdata, hasStringFields } from './beside-kmsdata.js';
import { errnoOf, fileError, isDiskError } from './file-errors.js';

// The writers' modules are loaded when a claim is written: `status` only reads it (cold start).
const fsyncDir = async (dir: string) => (await import('./durable.js')).fsyncDir(dir);

/**
 * The claim on a server lives beside Kmsdata, in `Exchsrvr`, so it is seen by every run that
 * would change that folder, whatever database (or none) it uses, from this machine or another.
 */
export const CLAIM_FILE = 'kms-recover.claim';
/** A claim is written whole under this name first, then linked to CLAIM_FILE. */
const TEMP_PREFIX = '.kms-recover.claim.';
/** A temporary claim file older than this was left by a claimer that died before linking it. */
const STALE_TEMP_MS = 60_000;
const MAX_CLAIM_BYTES = 16 * 1024;

/** A claim file that cannot be handled: FILE_IO when the disk failed, else PATH_UNSAFE. */
function claimFileError(error: unknown, words: string, file: string): KmsRecoverError {
  if (isDiskError(errnoOf(error))) return fileError(error, { file }, (_failure, why) => `${words}: ${why}`);
  return new KmsRecoverError('PATH_UNSAFE', `${words}: ${errnoOf(error) ?? String(error)}`, { path: file }, { cause: error });
}

export function claimPathFor(kmsdata: string): string {
  return besideKmsdata(kmsdata, CLAIM_FILE);
}

function isClaim(value: unknown): value is ServerClaim {
  return hasStringFields(value, ['runId', 'db', 'host', 'claimedAt', 'kmsdata']);
}

/**
 * Reads the claim, if any. A file that is there but cannot be read as a claim (damaged, or being
 * written where links are not available) is still a claim: `holder` is null then, and nothing may
 * proceed. An unreadable claim is read again for a moment first: a claim being written is
 * complete within milliseconds.
 */
export async function readServerClaim(kmsdata: string): Promise<{ path: string; holder: ServerClaim | null } | null> {
  const file = claimPathFor(kmsdata);
  for (let attempt = 0; ; attempt += 1) {
    let text: string;
    try {
      const buffer = await readFile(file);
      text = buffer.length > MAX_CLAIM_BYTES ? '' : buffer.toString('utf8');
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return null;
      throw claimFileError(error, `cannot read the claim ${file}`, file);
    }
    const holder = parseClaim(text);
    if (holder || attempt >= 10) return { path: file, holder };
    await sleep(50);
  }
}

function parseClaim(text: string): ServerClaim | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return isClaim(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Claims the server atomically, before any change to it: the claim is written whole to a file of
 * this run's own, flushed, then linked to its name, which fails if a claim is there (so no reader
 * ever sees half a claim). Where the file system has no hard links, it is created with O_EXCL
 * instead. Returns the existing claim when there is one; claiming again for the same run is a no-op.
 */
export async function claimServer(kmsdata: string, claim: ServerClaim): Promise<ClaimOutcome> {
  const file = claimPathFor(kmsdata);
  const existing = async (): Promise<ClaimOutcome> => {
    const current = await readServerClaim(kmsdata);
    if (!current) return claimServer(kmsdata, claim); // released meanwhile: try again
    if (current.holder?.runId === claim.runId) return { claimed: true, path: file };
    return { claimed: false, path: file, holder: current.holder };
  };
  const text = `${JSON.stringify(claim, null, 2)}\n`;
  const own = path.join(path.dirname(file), `${TEMP_PREFIX}${os.hostname()}.${process.pid}.tmp`);
  await removeStaleTemps(path.dirname(file));
  try {
    await writeDurably(own, text, 'w');
    try {
      await link(own, file);
    } catch (error) {
      if (errnoOf(error) === 'EEXIST') return await existing();
      // No hard links here (some network shares): create the claim itself exclusively.
      try {
        await writeDurably(file, text, 'wx');
      } catch (inner) {
        if (errnoOf(inner) === 'EEXIST') return await existing();
        throw inner;
      }
    }
  } catch (error) {
    if (error instanceof KmsRecoverError) throw error;
    throw claimFileError(error, `cannot write the claim ${file}`, file);
  } finally {
    await unlink(own).catch(() => undefined);
  }
  await fsyncDir(path.dirname(file));
  return { claimed: true, path: file };
}

/**
 * Removes temporary claim files that a claimer cut off before linking them left behind: its
 * process is gone (on this machine), or the file is older than any claim takes to write.
 */
async function removeStaleTemps(dir: string): Promise<void> {
  const now = Date.now();
  const here = `${TEMP_PREFIX}${os.hostname()}.`;
  for (const name of await readdir(dir).catch(() => [])) {
    if (!name.startsWith(TEMP_PREFIX) || !name.endsWith('.tmp')) continue;
    const full = path.join(dir, name);
    const stats = await lstat(full).catch(() => null);
    if (!stats?.isFile()) continue;
    const pid = name.startsWith(here) ? Number(name.slice(here.length, -'.tmp'.length)) : NaN;
    const gone = Number.isInteger(pid) && pid !== process.pid && !pidExists(pid);
    if (gone || now - stats.mtimeMs > STALE_TEMP_MS) await unlink(full).catch(() => undefined);
  }
}

async function writeDurably(file: string, text: string, flags: 'w' | 'wx'): Promise<void> {
  // Its owner's only (Windows: the folder's permissions), as the database and the log.
  const { PRIVATE_FILE_MODE } = await import('../private-file.js');
  const handle = await open(file, flags, PRIVATE_FILE_MODE);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes the claim if it names `runId`; a claim of another run is left alone. True if removed. */
export async function releaseServerClaim(kmsdata: string, runId: string): Promise<boolean> {
  const existing = await readServerClaim(kmsdata);
  if (!existing || existing.holder?.runId !== runId) return false;
  try {
    await unlink(existing.path);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw claimFileError(error, `cannot remove the claim ${existing.path}`, existing.path);
  }
  await fsyncDir(path.dirname(existing.path));
  return true;
}

/** The claim file's identity and times when it was last parsed, with what it held (see serverClaimNow). */
let lastRead: { file: string; stamp: string; holder: ServerClaim | null } | null = null;

/**
 * The claim as it is on disk this instant, read synchronously: a change guard calls this before
 * every change, thousands of times in a clear, so the file is parsed again only when its
 * identity, size or times changed since the last look (one stat otherwise). No retry: an
 * unreadable claim is reported as such (`holder` null), and the caller stops.
 */
export function serverClaimNow(kmsdata: string): { path: string; exists: boolean; holder: ServerClaim | null } {
  const file = claimPathFor(kmsdata);
  let stamp: string;
  try {
    const s = statSync(file, { bigint: true });
    stamp = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return { path: file, exists: false, holder: null };
    throw new KmsRecoverError('PATH_UNSAFE', `cannot read the claim ${file}: ${errnoOf(error) ?? String(error)}`, { path: file }, { cause: error });
  }
  if (lastRead?.file === file && lastRead.stamp === stamp) return { path: file, exists: true, holder: lastRead.holder };
  let holder: ServerClaim | null;
  try {
    const buffer = readFileSync(file);
    holder = buffer.length > MAX_CLAIM_BYTES ? null : parseClaim(buffer.toString('utf8'));
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return { path: file, exists: false, holder: null };
    throw new KmsRecoverError('PATH_UNSAFE', `cannot read the claim ${file}: ${errnoOf(error) ?? String(error)}`, { path: file }, { cause: error });
  }
  lastRead = { file, stamp, holder };
  return { path: file, exists: true, holder };
}
