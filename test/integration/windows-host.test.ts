import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmsRecoverError } from '../../errors/index.js';
import type { KmsdataOperations, StartupDiskReader } from '../../host/types.js';
import { createWindowsHost, type WindowsHostOptions } from '../../host/windows/index.js';
import { buildStartScript } from '../../host/windows/powershell-start.js';
import { createStandIns, psResult, type StandIns } from '../helpers/windows-standins.js';
import { rejection } from '../helpers/rejection.js';

const KMS = 'MSExchangeKMS';
const ALPHA = 'Q7#kv!pZ2m@Lx9';
const QUERY = ['query', KMS];
const STOP = ['stop', KMS];
const PS = ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', '-'];

let standIns: StandIns;

beforeEach(() => {
  standIns = createStandIns();
});

afterEach(() => {
  standIns.cleanup();
});

/** The Windows host against the stand-ins, built directly (no platform check), with short waits. */
function host(options: WindowsHostOptions = {}) {
  return createWindowsHost({ toolDirectory: standIns.dir, env: standIns.env, pollMs: 20, stopTimeoutMs: 2000, startTimeoutMs: 2000, ...options });
}


const q = (...fixtures: string[]) => fixtures.map((fixture) => ({ fixture }));

/** [tool, argv] of every call made, in order. */
function calls(): Array<[string, string[]]> {
  return standIns.calls().map((c) => [c.tool, c.argv]);
}

function expectAlphaNeverInArgv(): void {
  for (const call of standIns.calls()) expect(call.argv.join(' ')).not.toContain(ALPHA);
}

describe('queryService', () => {
  it('RUNNING: one sc.exe query MSExchangeKMS', async () => {
    standIns.script({ 'sc query': q('running') });
    await expect(host().queryService(KMS)).resolves.toEqual({ name: KMS, state: 'running' });
    expect(calls()).toEqual([['sc.exe', QUERY]]);
    expect(standIns.calls()[0]?.stdin).toBe('');
  });

  it.each([['stopped', 'stopped'], ['stop-pending', 'stop-pending'], ['start-pending', 'start-pending'], ['running-de', 'running']])(
    '%s -> %s', async (fixture, state) => {
      standIns.script({ 'sc query': q(fixture) });
      await expect(host().queryService(KMS)).resolves.toEqual({ name: KMS, state });
    });

  it.each(['does-not-exist', 'does-not-exist-legacy', 'does-not-exist-de'])('%s (error 1060) -> missing', async (fixture) => {
    standIns.script({ 'sc query': q(fixture) });
    await expect(host().queryService(KMS)).resolves.toEqual({ name: KMS, state: 'missing' });
  });

  it.each(['access-denied', 'access-denied-openservice', 'access-denied-de'])('%s (error 5) -> SERVICE_ACCESS_DENIED', async (fixture) => {
    standIns.script({ 'sc query': q(fixture) });
    const error = await rejection(host().queryService(KMS));
    expect(error.code).toBe('SERVICE_ACCESS_DENIED');
    expect(error.message).toMatch(/^access denied querying MSExchangeKMS \(sc\.exe query: Open(SCManager|Service) error 5\): run kms-recover from an elevated prompt/);
  });

  it('finds sc.exe on PATH when no tool folder is given (off Windows)', async () => {
    standIns.script({ 'sc query': q('stopped') });
    const env = { ...standIns.env, PATH: `${standIns.dir}${path.delimiter}${process.env.PATH ?? ''}` };
    const pathHost = createWindowsHost({ env, pollMs: 20 });
    const previous = process.env.PATH;
    process.env.PATH = env.PATH; // spawn looks the bare name up on the parent's PATH
    try {
      await expect(pathHost.queryService(KMS)).resolves.toEqual({ name: KMS, state: 'stopped' });
    } finally {
      process.env.PATH = previous;
    }
    expect(calls()).toEqual([['sc.exe', QUERY]]);
  });

  it('text sc.exe never prints is an error that says what ran', async () => {
    standIns.script({ 'sc query': [{ stdout: 'something else entirely\r\n', exit: 0 }] });
    const error = await rejection(host().queryService(KMS));
    expect(error.code).toBe('STEP_FAILED');
    expect(error.message).toMatch(/^sc\.exe query MSExchangeKMS printed something unreadable/);
  });

  it('a missing sc.exe is an error naming the program', async () => {
    const error = await rejection(createWindowsHost({ toolDirectory: path.join(standIns.dir, 'nowhere') }).queryService(KMS));
    expect(error.message).toMatch(/^cannot run .*nowhere\/sc\.exe: ENOENT/);
  });
});

describe('stopService', () => {
  it('query RUNNING, stop (STOP_PENDING), poll until STOPPED', async () => {
    standIns.script({ 'sc query': q('running', 'stop-pending', 'stop-pending', 'stopped'), 'sc stop': q('stop-issued') });
    await expect(host().stopService(KMS)).resolves.toEqual({ name: KMS, state: 'stopped' });
    expect(calls()).toEqual([['sc.exe', QUERY], ['sc.exe', STOP], ['sc.exe', QUERY], ['sc.exe', QUERY], ['sc.exe', QUERY]]);
  });

  it('a stopped service is left as is: one query, no stop', async () => {
    standIns.script({ 'sc query': q('stopped') });
    await expect(host().stopService(KMS)).resolves.toEqual({ name: KMS, state: 'stopped' });
    expect(calls()).toEqual([['sc.exe', QUERY]]);
  });

  it('a service already STOP_PENDING is waited for, not stopped again', async () => {
    standIns.script({ 'sc query': q('stop-pending', 'stop-pending', 'stopped') });
    await expect(host().stopService(KMS)).resolves.toMatchObject({ state: 'stopped' });
    expect(calls().filter(([, argv]) => argv[0] === 'stop')).toEqual([]);
  });

  it('STOP_PENDING that never ends: SERVICE_STOP_FAILED after the timeout, saying how to get out', async () => {
    standIns.script({ 'sc query': q('running', 'stop-pending'), 'sc stop': q('stop-issued') });
    const started = Date.now();
    const error = await rejection(host({ stopTimeoutMs: 300 }).stopService(KMS));
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(error.code).toBe('SERVICE_STOP_FAILED');
    expect(error.message).toBe('MSExchangeKMS is still STOP_PENDING after 0.3 s (checkpoint 2): the service hangs while stopping; end its process (sc.exe queryex MSExchangeKMS shows its PID; taskkill /PID <pid> /F), then run kms-recover resume');
    expect(error.detail).toMatchObject({ state: 'STOP_PENDING', checkpoint: 2, waitHintMs: 30_000 });
  });

  it('access denied on the stop: SERVICE_STOP_FAILED', async () => {
    standIns.script({ 'sc query': q('running'), 'sc stop': q('access-denied-openservice') });
    const error = await rejection(host().stopService(KMS));
    expect(error.code).toBe('SERVICE_STOP_FAILED');
    expect(error.message).toMatch(/^access denied stopping MSExchangeKMS \(sc\.exe stop: OpenService error 5\): run kms-recover from an elevated prompt \(Run as administrator\)/);
  });

  it('service missing: SERVICE_MISSING, before any stop', async () => {
    standIns.script({ 'sc query': q('does-not-exist') });
    const error = await rejection(host().stopService(KMS));
    expect(error.code).toBe('SERVICE_MISSING');
    expect(error.message).toMatch(/^the service MSExchangeKMS is not installed \(error 1060\)/);
    expect(calls()).toEqual([['sc.exe', QUERY]]);
  });

  it('1062 (stopped meanwhile) and 1061 (changing state) are waited out', async () => {
    standIns.script({ 'sc query': q('running', 'stopped'), 'sc stop': q('stop-not-active') });
    await expect(host().stopService(KMS)).resolves.toMatchObject({ state: 'stopped' });
    standIns.script({ 'sc query': q('running', 'stop-pending', 'stopped'), 'sc stop': q('stop-cannot-accept') });
    await expect(host().stopService(KMS)).resolves.toMatchObject({ state: 'stopped' });
  });
});

describe('startService', () => {
  it('query STOPPED, PowerShell with the script then the alpha string on stdin, query RUNNING', async () => {
    standIns.script({
      'sc query': q('stopped'),
      powershell: [{ ...psResult({ ok: true, status: 'Running' }), then: { 'sc query': q('running') } }],
    });
    await expect(host().startService(KMS, [ALPHA])).resolves.toEqual({ name: KMS, state: 'running' });
    expect(calls()).toEqual([['sc.exe', QUERY], ['powershell.exe', PS], ['sc.exe', QUERY]]);

    const ps = standIns.calls()[1]!;
    const [script, alphaLine, rest] = ps.stdin.split('\r\n');
    expect(script).toBe(buildStartScript({ service: KMS, timeoutMs: Number(/AddMilliseconds\((\d+)\)/.exec(script ?? '')?.[1]), pollMs: 20 }));
    expect(script).not.toContain(ALPHA);
    expect(alphaLine).toBe(ALPHA);
    expect(rest).toBe('');
    expectAlphaNeverInArgv();
    for (const call of standIns.calls().filter((c) => c.tool === 'sc.exe')) expect(call.stdin).not.toContain(ALPHA);
  });

  it('a running service is left as is: no PowerShell', async () => {
    standIns.script({ 'sc query': q('running') });
    await expect(host().startService(KMS, [ALPHA])).resolves.toMatchObject({ state: 'running' });
    expect(calls()).toEqual([['sc.exe', QUERY]]);
  });

  it('the KMS stops after reading its start parameter: SERVICE_START_FAILED with its exit code and events, no alpha string', async () => {
    standIns.script({
      'sc query': q('stopped'),
      powershell: [{
        ...psResult({ ok: false, reason: 'stopped', status: 'Stopped', events: [{ id: 5006, type: 'Error', message: 'The Exchange KM service failed to start.' }] }, 5),
        then: { 'sc query': q('stopped-service-specific-error') },
      }],
    });
    const error = await rejection(host().startService(KMS, [ALPHA]));
    expect(error.code).toBe('SERVICE_START_FAILED');
    expect(error.message).toBe('MSExchangeKMS stopped during its start after reading its start parameter: service specific error 1 (WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE 1); event 5006 "The Exchange KM service failed to start.". Microsoft documents this error for a KMS that did not get its start-up password or whose service account is wrong (KB Q151689): check that the alpha string is the ORIGINAL server\'s and the service\'s Log On account, then run kms-recover resume');
    expect(error.detail).toMatchObject({ win32ExitCode: 1066, serviceExitCode: 1, events: [{ id: 5006 }] });
    expect(JSON.stringify(error.detail) + error.message).not.toContain(ALPHA);
    expect(calls()).toEqual([['sc.exe', QUERY], ['powershell.exe', PS], ['sc.exe', QUERY]]);
    expectAlphaNeverInArgv();
  });

  it('the same on a German server: exit codes read by position', async () => {
    standIns.script({
      'sc query': q('stopped'),
      powershell: [{ ...psResult({ ok: false, reason: 'stopped', status: 'Stopped' }, 5), then: { 'sc query': q('stopped-service-specific-error-de') } }],
    });
    const error = await rejection(host().startService(KMS, [ALPHA]));
    expect(error.message).toMatch(/^MSExchangeKMS stopped during its start after reading its start parameter: service specific error 1 \(WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE 1\)\. /);
  });

  it('ALPHA_REJECTED where the rejection can be told: an exit code or event ID the site configured', async () => {
    const scenario = () => standIns.script({
      'sc query': q('stopped'),
      powershell: [{ ...psResult({ ok: false, reason: 'stopped', status: 'Stopped', events: [{ id: 7001 }] }, 5), then: { 'sc query': q('stopped-service-specific-error') } }],
    });
    scenario();
    const byCode = await rejection(host({ alphaRejected: { serviceExitCodes: [1] } }).startService(KMS, [ALPHA]));
    expect(byCode.code).toBe('ALPHA_REJECTED');
    expect(byCode.message).toBe('MSExchangeKMS rejected the alpha string (service specific error 1 (WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE 1); event 7001): it is not the original server\'s; use the startup disk of the ORIGINAL Key Management Server');
    scenario();
    expect((await rejection(host({ alphaRejected: { eventIds: [7001] } }).startService(KMS, [ALPHA]))).code).toBe('ALPHA_REJECTED');
    scenario();
    expect((await rejection(host({ alphaRejected: { eventIds: [7002] } }).startService(KMS, [ALPHA]))).code).toBe('SERVICE_START_FAILED');
  });

  it.each([
    ['open-failed', 1060, 'SERVICE_MISSING', /^the service MSExchangeKMS is not installed \(error 1060\)/],
    ['open-failed', 5, 'SERVICE_START_FAILED', /^Windows refused to start MSExchangeKMS: access denied \(error 5\): run kms-recover from an elevated prompt/],
    ['start-refused', 5, 'SERVICE_START_FAILED', /^Windows refused to start MSExchangeKMS: access denied \(error 5\)/],
    ['start-refused', 1058, 'SERVICE_START_FAILED', /^Windows refused to start MSExchangeKMS: the service is disabled \(error 1058\): set its startup type to Manual \(sc\.exe config MSExchangeKMS start= demand\)/],
    ['start-refused', 1069, 'SERVICE_START_FAILED', /^Windows refused to start MSExchangeKMS: its service account could not log on \(error 1069\)/],
    ['start-refused', 1053, 'SERVICE_START_FAILED', /^Windows refused to start MSExchangeKMS: error 1053 \(The service did not respond\)$/],
  ])('PowerShell %s with Win32 error %i -> %s', async (reason, win32, code, message) => {
    standIns.script({ 'sc query': q('stopped'), powershell: [psResult({ ok: false, reason, win32, message: 'The service did not respond' }, 4)] });
    const error = await rejection(host().startService(KMS, [ALPHA]));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expectAlphaNeverInArgv();
  });

  it('still START_PENDING at the timeout: SERVICE_START_FAILED', async () => {
    standIns.script({ 'sc query': q('stopped'), powershell: [{ ...psResult({ ok: false, reason: 'timeout', status: 'StartPending' }, 5), then: { 'sc query': q('start-pending') } }] });
    const error = await rejection(host().startService(KMS, [ALPHA]));
    expect(error.code).toBe('SERVICE_START_FAILED');
    expect(error.message).toBe('MSExchangeKMS did not reach RUNNING within 2 s (it is START_PENDING); check it with sc.exe query MSExchangeKMS and the Application log, then run kms-recover resume');
  });

  it('PowerShell that says nothing readable: the error never repeats the alpha string it may echo', async () => {
    standIns.script({ 'sc query': q('stopped'), powershell: [{ stdout: '', stderr: `${ALPHA} : The term '${ALPHA}' is not recognized\r\n`, exit: 1 }] });
    const error = await rejection(host().startService(KMS, [ALPHA]));
    expect(error.code).toBe('SERVICE_START_FAILED');
    expect(error.message).toBe("PowerShell did not report how the start of MSExchangeKMS went (exit 1): [alpha string] : The term '[alpha string]' is not recognized; check the service's state with sc.exe query MSExchangeKMS");
  });

  it('no PowerShell at all: an error naming it', async () => {
    standIns.script({ 'sc query': q('stopped') });
    const tools = { sc: path.join(standIns.dir, 'sc.exe'), powershell: path.join(standIns.dir, 'no-powershell.exe') };
    const error = await rejection(host({ tools }).startService(KMS, [ALPHA]));
    expect(error.message).toMatch(/^cannot run Windows PowerShell \(.*no-powershell\.exe\): ENOENT/);
  });

  it('without an alpha string, or with one that is not one line, nothing is run', async () => {
    expect((await rejection(host().startService(KMS, []))).message).toBe('the KMS needs its alpha string as start parameter');
    expect((await rejection(host().startService(KMS, ['a\nb']))).code).toBe('SERVICE_START_FAILED');
    expect(calls()).toEqual([]);
  });

  it('a missing service: SERVICE_MISSING, PowerShell never started', async () => {
    standIns.script({ 'sc query': q('does-not-exist') });
    expect((await rejection(host().startService(KMS, [ALPHA]))).code).toBe('SERVICE_MISSING');
    expect(calls()).toEqual([['sc.exe', QUERY]]);
  });
});

describe('files in use', () => {
  const inUse = (file: string): KmsdataOperations & StartupDiskReader => {
    const fail = async (): Promise<never> => {
      throw new KmsRecoverError('FILE_IN_USE', `cannot delete ${file}: the file is in use (is the KMS service still running?)`, { file, errno: 'EBUSY' });
    };
    return { clearKmsdata: fail, restoreKmsdata: fail } as unknown as KmsdataOperations & StartupDiskReader;
  };
  const file = 'C:\\exchsrvr\\KMSDATA\\kmsmail.edb';

  it('service stopped: the error names the file and says another program holds it', async () => {
    standIns.script({ 'sc query': q('stopped') });
    const error = await rejection(host({ fsOps: inUse(file) }).clearKmsdata('C:\\exchsrvr\\KMSDATA', 'run1', { expected: null, record: () => undefined }));
    expect(error.code).toBe('FILE_IN_USE');
    expect(error.message).toBe(`cannot delete ${file}: the file is in use; MSExchangeKMS is stopped, so another program holds it (a backup agent, a virus scanner, an Explorer or command window open in that folder): close it, then run kms-recover resume`);
    expect(error.detail).toMatchObject({ file, operation: 'clear', serviceState: 'stopped' });
  });

  it('service running: says to stop it', async () => {
    standIns.script({ 'sc query': q('running') });
    const error = await rejection(host({ fsOps: inUse(file) }).restoreKmsdata('D:\\backup\\Kmsdata', 'C:\\exchsrvr\\KMSDATA', {} as never, 'run1'));
    expect(error.message).toBe(`cannot delete ${file}: the file is in use; MSExchangeKMS is running: stop it, then run kms-recover resume`);
  });
});
