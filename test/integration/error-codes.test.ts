import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toErrorRecord } from '../../errors/index.js';
import { CLI, parseJson, runCli, UNWRAPPED_COLUMNS } from '../helpers/run-cli.js';
import { startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/* Errors say what happened: each case asserts its code and the exit status the README gives. */

const isRoot = process.getuid?.() === 0;
const canMount = isRoot && spawnSync('sh', ['-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; s=$?; rmdir "$d"; exit $s']).status === 0;

describe('errors say what happened', () => {
  it('run ids are checked before anything is opened: empty, over-long, not hex → exit 2', async () => {
    const sim = await simFixture();
    await runCli(startWithDiskArgs(sim));
    for (const id of ['', 'x'.repeat(100_000), 'zz12', '12345678901']) {
      for (const command of [['resume', id], ['status', id], ['history', id], ['abandon', id, '--yes'], ['confirm', id, 'stop']]) {
        const result = await runCli([...command, '--db', sim.db]);
        expect(result.code, `${command[0]} "${id.slice(0, 12)}"`).toBe(2);
        const lines = result.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]!.length).toBeLessThan(200);
      }
    }
  }, cliLimit(21));

  it('confirm on a finished run exits 7, as resume does', async () => {
    const sim = await simFixture();
    const done = await runCli(startWithDiskArgs(sim));
    expect(done.code).toBe(0);
    const { runId } = await statusOf(sim);
    const confirm = await runCli(['confirm', runId, 'stop', '--db', sim.db]);
    expect(confirm.code).toBe(7);
    expect(confirm.stderr).toMatch(/already finished/);
  }, cliLimit(3));

  it('an errno is never an error code: a stored EINVAL becomes INTERNAL with the errno in its message', () => {
    expect(toErrorRecord({ code: 'EINVAL', message: 'invalid argument, read' })).toEqual({ code: 'INTERNAL', message: 'invalid argument, read (EINVAL)' });
    expect(toErrorRecord({ code: 'FILE_IN_USE', message: 'in use' })).toEqual({ code: 'FILE_IN_USE', message: 'in use' });
  });

  it.skipIf(!isRoot)('a backup file the tool may not read is ACCESS_DENIED (exit 3), not "in use", before anything changes', async () => {
    const sim = await simFixture();
    // Run as an unprivileged user: root reads any file. Everything but one backup file is readable.
    spawnSync('chmod', ['-R', 'a+rwX', sim.dir]);
    const secret = path.join(sim.backup, fs.readdirSync(sim.backup).find((n) => n.endsWith('.edb'))!);
    fs.chmodSync(secret, 0o000);
    const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...startWithDiskArgs(sim)], {
      encoding: 'utf8', env: { PATH: process.env.PATH ?? '', COLUMNS: UNWRAPPED_COLUMNS }, cwd: sim.dir,
    });
    expect(result.status, result.stderr).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`kms-recover: cannot read ${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: permission denied`));
    expect(result.stderr).not.toMatch(/in use/);
    expect(fs.existsSync(sim.db)).toBe(false);
  }, cliLimit(1));

  it.skipIf(!canMount)('a full disk under the database is DB_FULL (exit 6) naming the disk; the server is left unclaimed', async () => {
    const sim = await simFixture(['--extra-files', '400']);
    const small = path.join(sim.dir, 'small');
    fs.mkdirSync(small);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=96k', 'tmpfs', small]).status).toBe(0);
    try {
      const result = await runCli(startWithDiskArgs(sim, [], path.join(small, 'runs.db')));
      expect(result.code, result.stderr).toBe(6);
      expect(result.stderr).toMatch(new RegExp(`kms-recover: the disk holding ${small} is full`));
      expect(fs.existsSync(path.join(path.dirname(sim.kmsdata), 'kms-recover.claim'))).toBe(false);
      const service = parseJson<{ state: string }>(await runCli(['sim', 'status', sim.root, '--json']));
      expect(service.state).toBe('running');
    } finally {
      spawnSync('umount', [small]);
    }
  }, cliLimit(2));

  it.skipIf(!canMount)('a server folder gone read-only is FILE_IO naming the file and the call, one line, not a path problem; nothing changed', async () => {
    const sim = await simFixture();
    const exchsrvr = path.dirname(sim.kmsdata);
    expect(spawnSync('mount', ['--bind', exchsrvr, exchsrvr]).status).toBe(0);
    try {
      expect(spawnSync('mount', ['-o', 'remount,bind,ro', exchsrvr]).status).toBe(0);
      const result = await runCli(startWithDiskArgs(sim, ['--json']));
      expect(result.code, result.stderr).toBe(4);
      expect(parseJson<{ error: { code: string } }>(result).error.code).toBe('FILE_IO');
      const lines = result.stderr.split('\n').filter((line) => line.startsWith('kms-recover:'));
      expect(lines).toEqual([`kms-recover: cannot write the claim ${path.join(exchsrvr, 'kms-recover.claim')}: the file system is read-only (EROFS in open)`]);
    } finally {
      spawnSync('umount', [exchsrvr]);
    }
    const service = parseJson<{ state: string }>(await runCli(['sim', 'status', sim.root, '--json']));
    expect(service.state).toBe('running');
  }, cliLimit(2));

  it('a log the disk cannot take is said once, in one line naming it, and the recovery goes on to running (it ended as a bug, exit 1)', async () => {
    const sim = await simFixture();
    fs.symlinkSync('/dev/full', sim.log); // every write fails: ENOSPC
    const result = await runCli(startWithDiskArgs(sim));
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('kms-recover:'));
    expect(lines).toEqual([`kms-recover: cannot write the log ${sim.log}: the disk is full (ENOSPC in write); going on without it (the database keeps the run's record)`]);
    expect((await statusOf(sim)).state).toBe('running');
  }, cliLimit(2));
});
