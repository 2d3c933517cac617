import { describe, expect, it } from 'vitest';
import { parseScFailure, parseScQuery, serviceStateOf } from '../../host/windows/sc-query-parser.js';
import { readFixture } from '../helpers/windows-standins.js';

describe('the sc.exe query fixtures', () => {
  it('keep the CRLF line endings sc.exe writes', () => {
    for (const name of ['running', 'stopped', 'stop-pending', 'does-not-exist', 'access-denied', 'running-de']) {
      const text = readFixture(name);
      expect(text).toContain('\r\n');
      expect(text.replace(/\r\n/g, '')).not.toContain('\n');
    }
  });
});

describe('parseScQuery', () => {
  it('RUNNING (state 4), with the flags line and the exit codes', () => {
    expect(parseScQuery(readFixture('running'))).toEqual({
      kind: 'status', serviceName: 'MSExchangeKMS', type: 10, stateCode: 4, stateName: 'RUNNING', state: 'running',
      win32ExitCode: 0, serviceExitCode: 0, checkpoint: 0, waitHintMs: 0,
    });
  });

  it('STOPPED (state 1), no flags line', () => {
    expect(parseScQuery(readFixture('stopped'))).toMatchObject({ kind: 'status', stateCode: 1, stateName: 'STOPPED', state: 'stopped' });
  });

  it('STOP_PENDING (state 3) with its checkpoint and wait hint (hexadecimal)', () => {
    expect(parseScQuery(readFixture('stop-pending'))).toMatchObject({
      stateCode: 3, stateName: 'STOP_PENDING', state: 'stop-pending', checkpoint: 2, waitHintMs: 30_000,
    });
    expect(parseScQuery(readFixture('stop-issued'))).toMatchObject({ stateCode: 3, state: 'stop-pending', checkpoint: 1 });
  });

  it('START_PENDING (state 2)', () => {
    expect(parseScQuery(readFixture('start-pending'))).toMatchObject({ stateCode: 2, state: 'start-pending', waitHintMs: 2000 });
  });

  it('a start that failed: WIN32_EXIT_CODE 1066 and the service\'s own SERVICE_EXIT_CODE', () => {
    expect(parseScQuery(readFixture('stopped-service-specific-error'))).toMatchObject({
      stateCode: 1, state: 'stopped', win32ExitCode: 1066, serviceExitCode: 1,
    });
  });

  it('a German Windows: STATUS, DIENST_EXITCODE... read by position, the state by its number', () => {
    expect(parseScQuery(readFixture('running-de'))).toEqual({
      kind: 'status', serviceName: 'MSExchangeKMS', type: 10, stateCode: 4, stateName: 'RUNNING', state: 'running',
      win32ExitCode: 0, serviceExitCode: 0, checkpoint: 0, waitHintMs: 0,
    });
    expect(parseScQuery(readFixture('stopped-service-specific-error-de'))).toMatchObject({
      stateCode: 1, state: 'stopped', win32ExitCode: 1066, serviceExitCode: 1,
    });
  });

  it('reads the number, not the word: a translated state name does not matter', () => {
    const text = readFixture('running-de').replace('4  RUNNING', '4  WIRD AUSGEFÜHRT');
    expect(parseScQuery(text)).toMatchObject({ stateCode: 4, stateName: 'RUNNING', state: 'running' });
    const lying = readFixture('running').replace('4  RUNNING', '1  RUNNING');
    expect(parseScQuery(lying)).toMatchObject({ stateCode: 1, state: 'stopped' });
  });

  it('service does not exist: error 1060, current and older sc.exe, and German', () => {
    for (const name of ['does-not-exist', 'does-not-exist-legacy', 'does-not-exist-de']) {
      expect(parseScQuery(readFixture(name))).toMatchObject({ kind: 'failure', api: 'OpenService', error: 1060 });
    }
    expect(parseScFailure(readFixture('does-not-exist'))?.text).toBe('The specified service does not exist as an installed service.');
  });

  it('access denied: error 5, from OpenSCManager or OpenService, English or German', () => {
    expect(parseScQuery(readFixture('access-denied'))).toEqual({ kind: 'failure', api: 'OpenSCManager', error: 5, text: 'Access is denied.' });
    expect(parseScQuery(readFixture('access-denied-openservice'))).toMatchObject({ kind: 'failure', api: 'OpenService', error: 5 });
    expect(parseScQuery(readFixture('access-denied-de'))).toMatchObject({ kind: 'failure', api: 'OpenSCManager', error: 5 });
  });

  it('sc.exe stop failures: 1062 not started, 1061 cannot accept control', () => {
    expect(parseScQuery(readFixture('stop-not-active'))).toMatchObject({ kind: 'failure', api: 'ControlService', error: 1062 });
    expect(parseScQuery(readFixture('stop-cannot-accept'))).toMatchObject({ kind: 'failure', api: 'ControlService', error: 1061 });
  });

  it('queryex adds the PID', () => {
    const text = readFixture('running').replace('        WAIT_HINT          : 0x0\r\n',
      '        WAIT_HINT          : 0x0\r\n        PID                : 2280\r\n        FLAGS              :\r\n');
    expect(parseScQuery(text)).toMatchObject({ state: 'running', pid: 2280 });
  });

  it('LF-only text (copied through a Unix tool) parses the same', () => {
    expect(parseScQuery(readFixture('stop-pending').replace(/\r\n/g, '\n'))).toMatchObject({ stateCode: 3 });
  });

  it('throws on text that is neither a status nor an [SC] error', () => {
    expect(() => parseScQuery('')).toThrow(/no SERVICE_NAME line/);
    expect(() => parseScQuery('DESCRIPTION:\r\n        Usage: sc <server> [command]')).toThrow();
    expect(() => parseScQuery(readFixture('running').replace('4  RUNNING', '9  WHATEVER'))).toThrow(/numeric service state/);
  });
});

describe('serviceStateOf', () => {
  it('maps the seven SERVICE_STATUS codes', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((c) => serviceStateOf(c as 1))).toEqual([
      'stopped', 'start-pending', 'stop-pending', 'running', 'paused', 'paused', 'paused',
    ]);
  });
});
