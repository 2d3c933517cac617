import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import type { FolderIdentity } from '../../domain/index.js';
import { errnoOf } from './file-errors.js';

/*
 * Where things lie, judged by what the folders ARE (device and inode; on Windows the volume
 * serial number and the file ID), never by their names: a bind mount, a junction, a mounted
 * folder or a hard-linked folder gives a second name to a folder, never a second identity.
 */

/** A thing the run reads or writes that must lie in none of the server's trees (and they in none of it). */
export interface PlaceApart {
  /** In the administrator's words: `the database`, `the log`, `the startup disk`. */
  what: string;
  /** Absolute; a file (which need not exist yet) or a folder. */
  path: string;
}

/** The trees a run changes or reads whole, and the files and folders it keeps beside them. */
export interface TreesApartRequest {
  kmsdata: string;
  backup: string;
  /** The quarantine and staging folders of earlier runs beside Kmsdata (deleted once a run finishes). */
  runFolders: readonly string[];
  /** The database, its -wal and -shm, the log, the startup disk. */
  places: readonly PlaceApart[];
}

function key(id: FolderIdentity): string {
  return `${id.dev}:${id.ino}`;
}

function idOf(stats: BigIntStats): FolderIdentity {
  return { dev: stats.dev.toString(), ino: stats.ino.toString() };
}

/** Every folder of the tree at `root` (itself included), by identity, with its path; links are not followed. */
export function folderIdentities(root: string): Map<string, string> {
  const found = new Map<string, string>();
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let stats: BigIntStats;
    try {
      stats = lstatSync(dir, { bigint: true });
    } catch (error) {
      if (dir !== root && errnoOf(error) === 'ENOENT') continue; // gone meanwhile
      throw unexaminable(dir, error);
    }
    if (!stats.isDirectory()) continue;
    found.set(key(idOf(stats)), dir);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      throw unexaminable(dir, error);
    }
    // The kind comes with the listing, never following a link: what the clear moves is the link,
    // never its target. A folder is looked at (lstat) only when it is walked.
    for (const entry of entries) if (entry.isDirectory()) pending.push(path.join(dir, entry.name));
  }
  return found;
}

/**
 * The identities of `place` and of every folder above it, up to the root of its file system, as
 * the system resolves it (links and junctions followed: where a file written there really goes).
 * A place that does not exist yet starts from its nearest existing folder.
 */
export function identityChain(place: string): { path: string; id: string }[] {
  let existing = path.resolve(place);
  for (;;) {
    if (lstatSync(existing, { throwIfNoEntry: false }) !== undefined) break;
    const parent = path.dirname(existing);
    if (parent === existing) return [];
    existing = parent;
  }
  let real: string;
  try {
    real = realpathSync.native(existing);
  } catch {
    real = existing; // a dangling link at the end: its folder is what is checked
  }
  const chain: { path: string; id: string }[] = [];
  for (let at = real; ; at = path.dirname(at)) {
    const stats = statSync(at, { bigint: true, throwIfNoEntry: false });
    if (stats?.isDirectory()) chain.push({ path: at, id: key(idOf(stats)) });
    if (path.dirname(at) === at) break;
  }
  return chain;
}

function unexaminable(dir: string, error: unknown): KmsRecoverError {
  return new KmsRecoverError('PATH_UNSAFE', `${dir} cannot be examined: ${errnoOf(error) ?? String(error)}`, { path: dir, errno: errnoOf(error) }, { cause: error });
}

function overlap(message: string, detail: Record<string, unknown>): KmsRecoverError {
  return new KmsRecoverError('PATHS_OVERLAP', `${message}; nothing was changed`, detail);
}

/** A folder of a tree: its path, and the name of the tree in the administrator's words. */
interface TreeFolder {
  where: string;
  tree: string;
}

function treeOf(root: string, tree: string, into: Map<string, TreeFolder>): Map<string, TreeFolder> {
  for (const [id, where] of folderIdentities(root)) into.set(id, { where, tree });
  return into;
}

/** The first folder of `chain` that is one of `tree`'s: the place's name for it and the tree's. */
function firstInside(chain: readonly { path: string; id: string }[], tree: ReadonlyMap<string, TreeFolder>): { at: string; folder: TreeFolder } | undefined {
  for (const link of chain) {
    const folder = tree.get(link.id);
    if (folder !== undefined) return { at: link.path, folder };
  }
  return undefined;
}

/** `(… is …)` when a place reaches a folder under another name, nothing when the names agree. */
function alias(at: string, where: string): string {
  return at === where ? '' : ` (${at} is ${where}, the same folder by device and inode)`;
}

/**
 * Refuses any overlap between the trees the run changes (Kmsdata, earlier runs' quarantine and
 * staging folders), the backup it reads, and the files it keeps (database, log, startup disk):
 * every folder of each tree is compared by identity with the folders holding the others. Reads only.
 */
export function assertTreesApart(request: TreesApartRequest): void {
  const kmsdata = path.resolve(request.kmsdata);
  const backup = path.resolve(request.backup);
  const server = treeOf(kmsdata, `Kmsdata ${kmsdata}`, new Map());
  for (const folder of request.runFolders) treeOf(folder, `the earlier run's folder ${folder}`, server);
  const saved = treeOf(backup, `the backup ${backup}`, new Map());

  // Neither lies inside the other.
  const backupUp = firstInside(identityChain(backup), server);
  if (backupUp) {
    throw overlap(`the backup ${backup} lies inside ${backupUp.folder.tree}${alias(backupUp.at, backupUp.folder.where)}; the backup must be a separate copy`,
      { backup, kmsdata, folder: backupUp.at, sameAs: backupUp.folder.where });
  }
  const kmsdataUp = firstInside(identityChain(kmsdata), saved);
  if (kmsdataUp) {
    throw overlap(`Kmsdata ${kmsdata} lies inside the backup ${backup}${alias(kmsdataUp.at, kmsdataUp.folder.where)}; the backup must be a separate copy`,
      { backup, kmsdata, folder: kmsdataUp.at, sameAs: kmsdataUp.folder.where });
  }

  // Nor does a folder of one is a folder of the other (a mount or junction inside either).
  for (const [id, { where }] of saved) {
    const there = server.get(id);
    if (there !== undefined) {
      throw overlap(`the backup ${backup} and ${there.tree} share a folder: ${where} is ${there.where} (the same folder by device and inode, through a mount, junction or link); the backup must be a separate copy`,
        { backup, kmsdata, folder: where, sameAs: there.where });
    }
  }
  for (const place of request.places) {
    const chain = identityChain(place.path);
    const inServer = firstInside(chain, server);
    if (inServer) {
      throw overlap(`${place.what} ${place.path} lies inside ${inServer.folder.tree}${alias(inServer.at, inServer.folder.where)}, which the recovery empties: keep it elsewhere (--db, or run kms-recover from another folder)`,
        { path: place.path, kmsdata, folder: inServer.at, sameAs: inServer.folder.where });
    }
    const inBackup = firstInside(chain, saved);
    if (inBackup) {
      throw overlap(`${place.what} ${place.path} lies inside ${inBackup.folder.tree}${alias(inBackup.at, inBackup.folder.where)}, which must never change: keep it elsewhere (--db, or run kms-recover from another folder)`,
        { path: place.path, backup, folder: inBackup.at, sameAs: inBackup.folder.where });
    }
  }
}

/**
 * Kmsdata, its quarantine and its staging folder must be on one file system: the clear and the
 * restore move whole entries between them by renaming. Kmsdata must not be a mount point (its
 * own volume), nor hold one.
 */
export function assertOneVolume(kmsdata: string): void {
  const dir = path.resolve(kmsdata);
  const parent = path.dirname(dir);
  const self = lstatSync(dir, { bigint: true });
  const above = lstatSync(parent, { bigint: true });
  if (self.dev !== above.dev) {
    throw new KmsRecoverError('KMSDATA_MOUNT_POINT',
      `Kmsdata ${dir} is a mount point (a file system of its own, not that of ${parent}): the recovery moves its files into a quarantine folder beside it and the restored copy into its place, which only works on one volume; make Kmsdata a plain folder of the volume holding Exchsrvr; nothing was changed`,
      { path: dir, parent, device: self.dev.toString(), parentDevice: above.dev.toString() });
  }
  const pending = [dir];
  while (pending.length > 0) {
    const at = pending.pop()!;
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const child = path.join(at, entry.name);
      const stats = lstatSync(child, { bigint: true, throwIfNoEntry: false });
      if (!stats?.isDirectory()) continue;
      if (stats.dev !== self.dev) {
        throw new KmsRecoverError('KMSDATA_MOUNT_POINT',
          `${child} inside Kmsdata is a mount point (another file system): the recovery moves Kmsdata's entries by renaming them on one volume; unmount it or move its contents into a plain folder; nothing was changed`,
          { path: child, kmsdata: dir });
      }
      pending.push(child);
    }
  }
}

/**
 * Refuses a file written for the administrator (the report) whose folder is, by identity, one of
 * the folders of `trees` (Kmsdata, the backup): it must not land in the KMS's data or in the
 * backup under any name. A tree that is gone since (a backup taken away) cannot receive it.
 */
export function assertOutsideTrees(file: string, what: string, trees: readonly PlaceApart[]): void {
  const chain = identityChain(path.dirname(path.resolve(file)));
  for (const tree of trees) {
    if (lstatSync(tree.path, { throwIfNoEntry: false }) === undefined) continue;
    const inside = firstInside(chain, treeOf(tree.path, `${tree.what} ${tree.path}`, new Map()));
    if (inside) {
      throw overlap(`${what} ${path.resolve(file)} would lie inside ${inside.folder.tree}${alias(inside.at, inside.folder.where)}; write it elsewhere (-o <file>)`,
        { file: path.resolve(file), tree: tree.path, folder: inside.at });
    }
  }
}
