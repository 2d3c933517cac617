import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../helpers/run-cli.js';
import { cleanupSimFixtures, simFixture, treeBytes } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

describe.skipIf(process.platform === 'win32')('start --adapter windows off Windows', () => {
  it('is refused with exit 3 and one line, before anything changes', async () => {
    const sim = await simFixture();
    const before = { kmsdata: treeBytes(sim.kmsdata), backup: treeBytes(sim.backup) };
    const result = await runCli([
      'start', '--adapter', 'windows', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--startup-disk', sim.startupDisk, '--db', sim.db,
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(`kms-recover: the windows adapter calls the Windows service control manager API, from the Exchange server or a Windows workstation; this is ${process.platform}: use --adapter sim to practise\n`);
    expect(result.stdout).toBe('');
    expect(fs.existsSync(sim.db)).toBe(false);
    expect({ kmsdata: treeBytes(sim.kmsdata), backup: treeBytes(sim.backup) }).toEqual(before);
    expect(parseJson<{ state: string }>(await runCli(['sim', 'status', sim.root, '--json'])).state).toBe('running');
  }, cliLimit(2));

  it('--json adds the error document', async () => {
    const result = await runCli(['start', '--adapter', 'windows', '--kmsdata', '/nowhere/Exchsrvr/Kmsdata', '--backup', '/nowhere/backup', '--json']);
    expect(result.code).toBe(3);
    expect(parseJson<{ error: { code: string } }>(result).error.code).toBe('ADAPTER_UNSUPPORTED');
  }, cliLimit(1));

  it('an unknown adapter is a usage error; --help lists both', async () => {
    const unknown = await runCli(['start', '--adapter', 'ssh', '--kmsdata', 'k', '--backup', 'b']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Allowed choices are sim, windows/);
    const help = await runCli(['start', '--help']);
    expect(help.stdout).toMatch(/--adapter <name>[\s\S]*\(choices:\s+"sim",\s+"windows"\)/);
    expect(help.stdout).toMatch(/--server <name>\s+windows: drive the KMS of this server from a\s+workstation/);
  }, cliLimit(2));

  it('--server: the windows adapter (refused off Windows, exit 3); with --adapter sim a usage error (exit 2), one line', async () => {
    const remote = await runCli(['start', '--server', 'KMSSERVER', '--kmsdata', '\\\\KMSSERVER\\C$\\exchsrvr\\KMSDATA', '--backup', '/nowhere/backup']);
    expect(remote.code).toBe(3);
    expect(remote.stderr).toMatch(/^kms-recover: the windows adapter calls the Windows service control manager API/);
    const sim = await runCli(['start', '--adapter', 'sim', '--server', 'KMSSERVER', '--kmsdata', '/nowhere/Exchsrvr/Kmsdata', '--backup', '/nowhere/backup']);
    expect(sim.code).toBe(2);
    expect(sim.stderr).toBe('kms-recover: --server drives a Windows server\'s service control manager: it goes with --adapter windows, not sim; see kms-recover start --help\n');
  }, cliLimit(2));
});
