import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { uncKmsdataParts } from '../../../host/windows/index.js';
import { assertShareReachable } from '../../../host/windows/remote-target.js';
import { KMS_SERVICE_NAME } from '../../../host/types.js';
import { hostContract } from '../../contract/host-contract.js';
import { wineServer, type WineLane, type WineServer } from './wine-server.js';

/*
 * The wine lane: the Host contract, then the windows-only cases, against wine's service control
 * manager, in Windows node.exe. Run by run-lane.sh:
 *   node.exe contract-wine.js <work folder>      (stdout to a file: TAP)
 */

const work = process.argv[2];
if (!work) throw new Error('usage: contract-wine.js <work folder>');
if (process.platform !== 'win32') throw new Error(`the wine lane runs in Windows node.exe; this is ${process.platform}`);

const lane: WineLane = { work, hostOptions: { stopTimeoutMs: 3000, startTimeoutMs: 20_000, pollMs: 100 } };

async function withServer(run: (server: WineServer) => Promise<void>): Promise<void> {
  const server = await wineServer(lane);
  try {
    await run(server);
  } finally {
    for (const note of server.notes) console.log(`# note: ${note}`);
    await server.cleanup();
  }
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string; detail: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string; detail: Record<string, unknown> };
  }
  return assert.fail('expected a rejection');
}

for (const contractCase of hostContract) {
  test(`contract: ${contractCase.name}`, () => withServer((server) => contractCase.run(server)));
}

test('wine: ALPHA_REJECTED names both KB Q151689 causes and the exit codes; an unreadable event log adds nothing', () => withServer(async (s) => {
  await s.host.stopService(KMS_SERVICE_NAME);
  const error = await rejection(s.host.startService(KMS_SERVICE_NAME, [s.alpha])); // the live Kmsdata is the reinstall's
  assert.equal(error.code, 'ALPHA_REJECTED');
  assert.match(error.message, /service specific error 1 \(WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE 1\)/);
  assert.match(error.message, /the alpha string is wrong or missing/);
  assert.match(error.message, /Log On account is wrong/);
  // Wine's ReadEventLogW reads nothing (ERROR_HANDLE_EOF): the message says nothing about the log.
  assert.doesNotMatch(error.message, /Application log says/);
  assert.deepEqual(error.detail.events, []);
  assert.equal(error.detail.serviceExitCode, 1);
}));

test('wine: events are added to ALPHA_REJECTED where the log gives some, with the alpha string cut out', () => withServer(async (s) => {
  // Wine's event log reads nothing, so the reader is given here: the test is of what the
  // message does with events, not of ReadEventLogW (never run against a real log).
  const { createWindowsHost } = await import('../../../host/windows/index.js');
  const host = createWindowsHost({
    ...lane.hostOptions,
    readEvents: (source) => [{ id: 5, type: 'error', timeGenerated: 0, source, strings: [`bad password ${s.alpha} given`] }],
  });
  await host.stopService(KMS_SERVICE_NAME);
  const error = await rejection(host.startService(KMS_SERVICE_NAME, [s.alpha]));
  assert.equal(error.code, 'ALPHA_REJECTED');
  assert.match(error.message, /the Application log says: event 5 \(error\): "bad password \[alpha string\] given"/);
  assert.ok(!`${error.message}${JSON.stringify(error.detail)}`.includes(s.alpha));
}));

test('wine: a start the service fails for another reason is SERVICE_START_FAILED with its exit code', () => withServer(async (s) => {
  await s.host.stopService(KMS_SERVICE_NAME);
  await s.setMode('fail-start');
  const error = await rejection(s.host.startService(KMS_SERVICE_NAME, [s.wrongAlpha]));
  assert.equal(error.code, 'SERVICE_START_FAILED');
  assert.match(error.message, /Windows error 1064 \(WIN32_EXIT_CODE 1064\)/);
  assert.equal((await s.host.queryService(KMS_SERVICE_NAME)).state, 'stopped');
}));

test('wine: a start on an empty Kmsdata is SERVICE_START_FAILED (service specific error 2), not ALPHA_REJECTED', () => withServer(async (s) => {
  await s.host.stopService(KMS_SERVICE_NAME);
  await s.host.clearKmsdata(s.kmsdata, 'lane-run', { expected: null, record: () => undefined });
  const error = await rejection(s.host.startService(KMS_SERVICE_NAME, [s.alpha]));
  assert.equal(error.code, 'SERVICE_START_FAILED');
  assert.match(error.message, /service specific error 2 \(WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE 2\)/);
}));

test('wine: a clear while the KMS runs names the held file and says to stop the KMS first', () => withServer(async (s) => {
  const error = await rejection(s.host.clearKmsdata(s.kmsdata, 'lane-run', { expected: null, record: () => undefined }));
  assert.equal(error.code, 'FILE_IN_USE');
  assert.match(error.message, /kmsdata\.edb/i);
  assert.match(error.message, /; MSExchangeKMS is running: stop it, then run kms-recover resume$/);
  assert.equal(error.detail.serviceState, 'running');
}));

test('wine: a hung stop says STOP_PENDING, its PID and how to end it', () => withServer(async (s) => {
  await s.hangStop(true);
  const error = await rejection(s.host.stopService(KMS_SERVICE_NAME));
  assert.equal(error.code, 'SERVICE_STOP_FAILED');
  assert.match(error.message, /^MSExchangeKMS is still STOP_PENDING after 3 s \(checkpoint \d+\): the service hangs while stopping; end its process \(PID \d+\)/);
  assert.equal((await s.host.queryService(KMS_SERVICE_NAME)).state, 'stop-pending');
  await s.hangStop(false);
}));

test('wine: the computer name is GetComputerNameExW\'s NetBIOS name; with --server, the server\'s', () => withServer(async (s) => {
  const name = await s.host.computerName();
  assert.equal(name.toUpperCase(), os.hostname().toUpperCase().slice(0, 15));
  const { createWindowsHost } = await import('../../../host/windows/index.js');
  assert.equal(await createWindowsHost({ ...lane.hostOptions, server: 'kmsserver' }).computerName(), 'KMSSERVER');
}));

test('wine: the running KMS holds kmsdata.edb (a sharing violation on a read open); stopped, it holds none and its exit codes are 0', () => withServer(async (s) => {
  const since = new Date();
  const running = await s.host.observeKms(KMS_SERVICE_NAME, s.kmsdata, since);
  assert.equal(running.status.state, 'running');
  assert.deepEqual(running.heldDatabase, await s.host.databaseIdentity(s.kmsdata));
  await s.host.stopService(KMS_SERVICE_NAME);
  const stopped = await s.host.observeKms(KMS_SERVICE_NAME, s.kmsdata, since);
  assert.equal(stopped.heldDatabase, null);
  assert.deepEqual(stopped.exit, { win32ExitCode: 0, serviceExitCode: 0 });
}));

test('wine: an unknown service is SERVICE_MISSING for stop and start (error 1060)', () => withServer(async (s) => {
  const stop = await rejection(s.host.stopService(s.missingService));
  assert.equal(stop.code, 'SERVICE_MISSING');
  assert.equal(stop.detail.win32Error, 1060);
  const start = await rejection(s.host.startService(s.missingService, [s.alpha]));
  assert.equal(start.code, 'SERVICE_MISSING');
}));

test('wine: --server with this computer\'s own name drives the same service control manager', () => withServer(async (s) => {
  const { createWindowsHost } = await import('../../../host/windows/index.js');
  const byName = createWindowsHost({ ...lane.hostOptions, server: os.hostname() });
  assert.equal((await byName.queryService(KMS_SERVICE_NAME)).state, 'running');
  assert.equal((await byName.queryService(s.missingService)).state, 'missing');
}));

test('wine differs from Windows: OpenSCManagerW ignores the machine name (Windows answers 1722/53 for an unknown one)', () => withServer(async (s) => {
  const { createWindowsHost } = await import('../../../host/windows/index.js');
  const nowhere = createWindowsHost({ ...lane.hostOptions, server: 'KMS-NO-SUCH-HOST' });
  const status = await nowhere.queryService(KMS_SERVICE_NAME).catch((error: { code?: string }) => error);
  if ('state' in status) {
    assert.equal(status.state, 'running', 'wine answered for its own service control manager');
    s.note('wine ignored the machine name \\\\KMS-NO-SUCH-HOST and answered from its own service control manager: the remote SCM is not tested by this lane');
  } else {
    assert.equal(status.code, 'SERVER_UNREACHABLE');
  }
}));

test('wine: an admin share that cannot be reached is SERVER_UNREACHABLE, with the Windows error', () => {
  const parts = uncKmsdataParts('\\\\KMS-NO-SUCH-HOST\\C$\\exchsrvr\\KMSDATA', 'KMS-NO-SUCH-HOST');
  let error: { code?: string; message?: string; detail?: Record<string, unknown> } | undefined;
  try {
    assertShareReachable(parts, KMS_SERVICE_NAME);
  } catch (e) {
    error = e as typeof error;
  }
  assert.ok(error, 'an unknown host\'s share was reachable');
  console.log(`# note: wine answers GetFileAttributesW(\\\\KMS-NO-SUCH-HOST\\C$\\) with error ${String(error.detail?.win32Error)} -> ${error.code}`);
  assert.equal(error.code, 'SERVER_UNREACHABLE');
  assert.equal(typeof error.detail?.win32Error, 'number');
});
