import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { claimFile } from '../helpers/server-claim.js';
import { resumeWithDisk, startWithDiskArgs } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * Restored KMS data keeps the backup's protection (modes, and owner when the tool runs as root),
 * also while it waits in the staging folder; the files the tool keeps are its owner's only.
 * Real processes: the built CLI on a simulated server (issue 20: they came back 0644/0755).
 */

const isRoot = process.getuid?.() === 0;
const OWNER = 4321;

/** Every entry under `dir` (itself as `.`) with its mode, and its owner. */
function protection(dir: string): Map<string, { mode: number; uid: number; gid: number }> {
  const out = new Map<string, { mode: number; uid: number; gid: number }>();
  const walk = (rel: string): void => {
    const stats = fs.lstatSync(path.join(dir, rel));
    out.set(rel === '' ? '.' : rel, { mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid });
    if (stats.isDirectory()) for (const name of fs.readdirSync(path.join(dir, rel))) walk(path.posix.join(rel, name));
  };
  walk('');
  return out;
}

function fileCount(dir: string): number {
  return [...protection(dir).keys()].filter((rel) => fs.lstatSync(path.join(dir, rel)).isFile()).length;
}

/** The backup made private as an administrator would keep KMS data: files 0600/0640, folders 0700/0750, another owner (as root). */
function protectBackup(sim: SimFixture): void {
  for (const rel of protection(sim.backup).keys()) {
    const full = path.join(sim.backup, rel);
    const isDir = fs.lstatSync(full).isDirectory();
    if (isRoot) fs.chownSync(full, OWNER, OWNER);
    fs.chmodSync(full, isDir ? (rel === '.' ? 0o750 : 0o700) : (rel.endsWith('.cer') ? 0o640 : 0o600));
  }
}

describe('restored data keeps its protection', () => {
  it('Kmsdata gets the backup\'s modes (and owner as root), the staging copy is never more open, and the tool\'s own files are 0600', async () => {
    const sim = await simFixture();
    protectBackup(sim);
    const backup = protection(sim.backup);
    expect(backup.get('kmsdata.edb')!.mode).toBe(0o600);

    // Killed after the last file reached the staging copy: what waits there is as protected as the backup.
    const killed = await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: `restore-after-file:${fileCount(sim.backup)}` } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const staging = fs.readdirSync(path.dirname(sim.kmsdata)).find((name) => name.startsWith('Kmsdata.restore-staging-'));
    expect(staging).toBeDefined();
    for (const [rel, entry] of protection(path.join(path.dirname(sim.kmsdata), staging!))) {
      const open = entry.mode & 0o077 & ~(backup.get(rel)?.mode ?? 0);
      expect(open, `${rel} in the staging copy is ${entry.mode.toString(8)}`).toBe(0);
    }
    // The tool's own files, created by this run: the owner's only.
    for (const file of [sim.db, `${sim.db}-wal`, `${sim.db}-shm`, sim.log, claimFile(sim)]) {
      expect(fs.statSync(file).mode & 0o777, file).toBe(0o600);
    }

    const finished = await resumeWithDisk(sim);
    expect(finished.code, finished.stderr).toBe(0);
    const restored = protection(sim.kmsdata);
    expect([...restored.keys()].sort()).toEqual([...backup.keys()].sort());
    for (const [rel, entry] of backup) {
      expect(restored.get(rel)!.mode.toString(8), rel).toBe(entry.mode.toString(8));
      if (isRoot) expect([restored.get(rel)!.uid, restored.get(rel)!.gid], rel).toEqual([OWNER, OWNER]);
    }
  }, cliLimit(2));

  it('an uninterrupted restore gives the same modes', async () => {
    const sim = await simFixture();
    protectBackup(sim);
    const result = await runCli(startWithDiskArgs(sim));
    expect(result.code, result.stderr).toBe(0);
    const backup = protection(sim.backup);
    const restored = protection(sim.kmsdata);
    for (const [rel, entry] of backup) expect(restored.get(rel)!.mode.toString(8), rel).toBe(entry.mode.toString(8));
  }, cliLimit(1));
});
