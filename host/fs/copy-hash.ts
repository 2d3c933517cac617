/**
 * Copies one file while hashing it, in a single read pass: every buffer read from the source goes
 * through SHA-256 and is then written to the destination, so the digest is that of the bytes
 * actually written. The restore's only copy loop (restore-kmsdata.ts); the clear's ledger hashes
 * the files it records with the same loop, writing nothing (quarantine-ledger.ts).
 *
 * The reads and writes are synchronous calls into one reusable buffer: a Kmsdata is a few database
 * and log files of a few MiB and many small ones, and a promise per read and per write cost more
 * than the system calls themselves and made the heap grow with the tree (bench/memory.mjs). Every
 * TURN_MS, within a file or between two, the event loop gets its turn (`Turns`): the lease
 * heartbeat, the step's time limit, Ctrl-C, and the completions of the background fsyncs.
 *
 * Failures come back as plain data: the caller turns them into BACKUP_CHANGED / FILE_IN_USE /
 * STEP_FAILED naming the file.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, fstatSync, futimesSync, lstatSync, openSync, readSync, write, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { errnoOf } from './file-errors.js';
import { fileMark, type FileMark } from './file-stamp.js';

/** One read buffer per copy: large enough that a 5-40 MiB file takes few system calls. */
export const COPY_BUFFER_BYTES = 1024 * 1024;
/** The longest the copy keeps the event loop to itself. */
const TURN_MS = 5;

/**
 * What went wrong, for the caller to name: `missing` / `not-file` (the backup changed), `read`
 * (the source could not be read), `write` (the destination could not be created or written).
 */
export type CopyFailureKind = 'missing' | 'not-file' | 'read' | 'write';

export type CopyOutcome =
  | { ok: true; size: number; sha256: string; mark?: FileMark }
  | { ok: false; kind: CopyFailureKind; code?: string; syscall?: string; message: string };

function failure(kind: CopyFailureKind, error?: unknown): CopyOutcome {
  const code = errnoOf(error);
  const syscall = (error as NodeJS.ErrnoException | undefined)?.syscall;
  return {
    ok: false, kind, ...(code === undefined ? {} : { code }), ...(syscall === undefined ? {} : { syscall }),
    message: error === undefined ? kind : String((error as Error).message ?? error),
  };
}

function isMissing(error: unknown): boolean {
  const code = errnoOf(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The event loop's turns during copies: one is due once TURN_MS have passed since the last. */
export class Turns {
  private last = performance.now();

  get due(): boolean {
    return performance.now() - this.last >= TURN_MS;
  }

  async take(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }
}

/**
 * What a series of copies reads through, one file at a time: one buffer, and the event loop's
 * turns. One per restore, per clear, per removal of a quarantine.
 */
export interface Reader {
  buf: Buffer;
  /** The second buffer of a large file's copy: written out in the background while `buf` is hashed. */
  spare: Buffer;
  turns: Turns;
}

export function newReader(): Reader {
  return { buf: Buffer.allocUnsafe(COPY_BUFFER_BYTES), spare: Buffer.allocUnsafe(COPY_BUFFER_BYTES), turns: new Turns() };
}

/** The source, opened read-only, with its times; or why it cannot be copied (the backup changed). */
function openSource(src: string): { fd: number; stats: Stats } | CopyOutcome {
  try {
    const stats = lstatSync(src);
    if (!stats.isFile()) return failure('not-file');
    return { fd: openSync(src, 'r'), stats };
  } catch (error) {
    return failure(isMissing(error) ? 'missing' : 'read', error);
  }
}

/** The destination (once created) and the source, both open; or why the copy cannot start (the destination closed then). */
async function openPair(src: string, created: Promise<number>): Promise<{ target: number; source: number; stats: Stats } | CopyOutcome> {
  let target: number;
  try {
    target = await created;
  } catch (error) {
    return failure('write', error);
  }
  const opened = openSource(src);
  if ('ok' in opened) {
    try { closeSync(target); } catch { /* the copy failed already */ }
    return opened;
  }
  return { target, source: opened.fd, stats: opened.stats };
}

/**
 * Copies `src` (a regular file, opened read-only) into its destination, `created` by the caller
 * (exclusively: it did not exist; see restore-kmsdata.ts), hashing every byte on its way; the
 * destination keeps the source's times and is closed, whatever happens.
 */
export async function copyAndHash(src: string, created: Promise<number>, reader: Reader, onBytes?: (bytesSoFar: number) => void): Promise<CopyOutcome> {
  const pair = await openPair(src, created);
  if ('ok' in pair) return pair;
  const { target, source, stats } = pair;
  let copied: CopyOutcome;
  try {
    // A file of more than one buffer is hashed on this thread while its previous buffer is
    // written out on libuv's: with the page cache fast, hashing is the copy's floor.
    copied = stats.size > COPY_BUFFER_BYTES ? await overlappedPass(source, target, reader, onBytes) : await pass(source, target, reader);
  } catch (error) {
    // Told to stop within the file (onBytes threw): its files closed, the stop goes on up.
    try { closeSync(target); } catch { /* the copy stopped already */ }
    throw error;
  } finally {
    try { closeSync(source); } catch { /* read-only: nothing to lose */ }
  }
  return finishCopy(target, stats, copied);
}

const isWindows = process.platform === 'win32';
const isRoot = process.getuid?.() === 0;

/**
 * Copies a file smaller than `buf` with one read: read and hashed on this thread at once, then
 * written out in libuv's pool while the caller reads the next files, then finished here (times,
 * protection, closed). The digest is that of the bytes written. `buf` is the caller's again once
 * the promise resolves (it never rejects); the destination is closed then.
 * A file grown past `buf` since the manifest is reported at `buf`'s size: the caller's size check
 * finds it changed.
 */
export async function copySmallAndHash(src: string, created: Promise<number>, buf: Buffer): Promise<CopyOutcome> {
  const pair = await openPair(src, created);
  if ('ok' in pair) return pair;
  const { target, source, stats } = pair;
  let n: number;
  try {
    n = readSync(source, buf, 0, buf.length, 0);
  } catch (error) {
    try { closeSync(target); } catch { /* the copy failed already */ }
    return failure('read', error);
  } finally {
    try { closeSync(source); } catch { /* read-only: nothing to lose */ }
  }
  const sha256 = createHash('sha256').update(buf.subarray(0, n)).digest('hex');
  const writeError = await writeOut(target, buf, n, 0);
  return finishCopy(target, stats, writeError ? failure('write', writeError) : { ok: true, size: n, sha256 });
}

/**
 * The end of a copy, on this thread (one trip to libuv's pool per call cost more than the calls):
 * the destination gets the source's times (best effort) and protection, is looked at as it is
 * left (its mark, what later checks compare with), and is closed, whatever happened.
 */
function finishCopy(target: number, stats: Stats, copied: CopyOutcome): CopyOutcome {
  let outcome = copied;
  try {
    if (outcome.ok) {
      try { futimesSync(target, stats.atime, stats.mtime); } catch { /* times are best effort, as before */ }
      try {
        keepProtection(target, stats);
        outcome.mark = fileMark(fstatSync(target, { bigint: true }));
      } catch (error) {
        outcome = failure('write', error);
      }
    }
  } finally {
    try {
      closeSync(target);
    } catch (error) {
      if (outcome.ok) outcome = failure('write', error);
    }
  }
  return outcome;
}

/**
 * The copy keeps the backup file's protection: its owner and group where the tool runs as root
 * (first: a change of owner clears set-id bits), then its mode. On Windows a mode is only the
 * read-only attribute: there the restored Kmsdata's permissions are its folder's.
 */
export function keepProtection(target: number, stats: { mode: number; uid: number; gid: number }): void {
  if (isWindows) return;
  if (isRoot) fchownSync(target, stats.uid, stats.gid);
  fchmodSync(target, stats.mode & 0o7777);
}

/**
 * The SHA-256 of the first `size` bytes of the open file `fd` (its size when it was looked at:
 * no read past them to find its end), and how many there were; nothing written. At once when
 * the file is read before the event loop's turn is due (a small one), else a promise of it.
 */
export function hashOpenFile(fd: number, size: number, reader: Reader, within: HashWithin = {}): CopyOutcome | Promise<CopyOutcome> {
  return pass(fd, null, reader, size, within);
}

/** What a long hash tells and heeds on its way: the bytes so far (after every buffer), and a stop (at the event loop's turns). */
export interface HashWithin {
  onBytes?: (bytesSoFar: number) => void;
  signal?: AbortSignal;
}

/** A failed outcome as the error it came from (its errno code and system call kept), for the caller's words. */
export function failureCause(outcome: Extract<CopyOutcome, { ok: false }>): Error {
  return Object.assign(new Error(outcome.message), outcome.code === undefined ? {} : { code: outcome.code }, outcome.syscall === undefined ? {} : { syscall: outcome.syscall });
}

/** Writes `n` bytes of `buf` at `position`, in libuv's pool; resolves to the error, if any (never rejects). */
function writeOut(fd: number, buf: Buffer, n: number, position: number): Promise<unknown> {
  return new Promise((resolve) => {
    const next = (done: number): void => {
      if (done >= n) { resolve(null); return; }
      write(fd, buf, done, n - done, position + done, (error, written) => (error ? resolve(error) : next(done + written)));
    };
    next(0);
  });
}

/**
 * A copy of a large file with two buffers: buffer k is read and hashed while buffer k-1 is being
 * written, and a buffer is read into again only once its write is done. The event loop runs at
 * every write's end; `onBytes` hears of every buffer written (the progress within the file), with
 * no write in flight: if it throws (the work was told to stop), the copy ends there, its files closed.
 */
async function overlappedPass(source: number, target: number, { buf, spare }: Reader, onBytes?: (bytesSoFar: number) => void): Promise<CopyOutcome> {
  const hash = createHash('sha256');
  let size = 0;
  let pending: Promise<unknown> | null = null;
  let current = buf;
  for (;;) {
    let n: number;
    try {
      n = readSync(source, current, 0, current.length, size);
    } catch (error) {
      if (pending) await pending;
      return failure('read', error);
    }
    if (n === 0) break;
    hash.update(n === current.length ? current : current.subarray(0, n));
    const failed = pending ? await pending : null;
    if (failed) return failure('write', failed);
    if (size > 0) onBytes?.(size);
    pending = writeOut(target, current, n, size);
    size += n;
    current = current === buf ? spare : buf;
  }
  const failed = pending ? await pending : null;
  if (failed) return failure('write', failed);
  return { ok: true, size, sha256: hash.digest('hex') };
}

/** One read pass over a file, from its start. */
interface Pass {
  source: number;
  /** Where every byte read is written too, if anywhere. */
  target: number | null;
  /** Read no further than this many bytes. */
  limit: number;
  hash: Hash;
  size: number;
  within: HashWithin;
}

/**
 * Reads `source` from its start to its end (or to `limit` bytes), hashing every byte, and writes
 * it to `target` if given: the outcome at once if the event loop's turn does not come due
 * meanwhile, else a promise of it.
 */
function pass(source: number, target: number | null, reader: Reader, limit = Infinity, within: HashWithin = {}): CopyOutcome | Promise<CopyOutcome> {
  const state: Pass = { source, target, limit, hash: createHash('sha256'), size: 0, within };
  return advance(state, reader) ?? finish(state, reader);
}

async function finish(state: Pass, reader: Reader): Promise<CopyOutcome> {
  for (;;) {
    await reader.turns.take();
    state.within.signal?.throwIfAborted();
    const outcome = advance(state, reader);
    if (outcome) return outcome;
  }
}

/**
 * Goes on with a pass to its end (the outcome), or until the event loop's turn is due (null),
 * one buffer at least each time.
 */
function advance(state: Pass, { buf, turns }: Reader): CopyOutcome | null {
  for (let first = true; state.size < state.limit; first = false) {
    if (!first && turns.due) return null;
    let n: number;
    try {
      n = readSync(state.source, buf, 0, Math.min(buf.length, state.limit - state.size), state.size);
    } catch (error) {
      return failure('read', error);
    }
    if (n === 0) break;
    state.hash.update(n === buf.length ? buf : buf.subarray(0, n));
    if (state.target !== null) {
      try {
        for (let done = 0; done < n;) done += writeSync(state.target, buf, done, n - done, state.size + done);
      } catch (error) {
        return failure('write', error);
      }
    }
    state.size += n;
    state.within.onBytes?.(state.size);
    // Told to stop (Ctrl-C, the time limit): at the next buffer of a large file, not at its end.
    state.within.signal?.throwIfAborted();
  }
  return { ok: true, size: state.size, sha256: state.hash.digest('hex') };
}
