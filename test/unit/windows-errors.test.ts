import { describe, expect, it } from 'vitest';
import { exitStatusFor } from '../../errors/index.js';
import { win32Error, WIN32_TABLE, type Win32Operation } from '../../host/windows/index.js';

const at = (op: Win32Operation, api = 'OpenServiceW', server?: string) => ({ op, api, service: 'MSExchangeKMS', server });

describe('Windows error numbers -> the tool\'s codes, one table', () => {
  it.each([
    [1060, 'query', 'SERVICE_MISSING'],
    [1060, 'start', 'SERVICE_MISSING'],
    [5, 'query', 'SERVICE_ACCESS_DENIED'],
    [5, 'stop', 'SERVICE_ACCESS_DENIED'],
    [1062, 'stop', 'SERVICE_STOP_FAILED'],
    [1056, 'start', 'SERVICE_START_FAILED'],
    [1058, 'start', 'SERVICE_START_FAILED'],
    [1069, 'start', 'SERVICE_START_FAILED'],
    [1053, 'stop', 'SERVICE_STOP_FAILED'],
    [1053, 'start', 'SERVICE_START_FAILED'],
    [1051, 'stop', 'SERVICE_STOP_FAILED'],
    [1722, 'connect', 'SERVER_UNREACHABLE'],
    [53, 'connect', 'SERVER_UNREACHABLE'],
    [53, 'share', 'SERVER_UNREACHABLE'],
    [1326, 'share', 'SERVICE_ACCESS_DENIED'],
    [66, 'share', 'SERVER_UNREACHABLE'],
    [4242, 'connect', 'SERVER_UNREACHABLE'],
    [4242, 'stop', 'SERVICE_STOP_FAILED'],
    [4242, 'query', 'STEP_FAILED'],
  ] as const)('%i while %s -> %s', (error, op, code) => {
    const e = win32Error(error, at(op));
    expect(e.code).toBe(code);
    expect(e.detail).toMatchObject({ win32Error: error, api: 'OpenServiceW', service: 'MSExchangeKMS' });
    expect(e.message).toContain(`OpenServiceW error ${error}`);
    expect(e.message).not.toMatch(/\n/);
  });

  it('every code in the table has an exit status (none falls to INTERNAL)', () => {
    for (const [number, entry] of Object.entries(WIN32_TABLE)) {
      for (const op of ['connect', 'query', 'stop', 'start', 'share'] as const) {
        const code = typeof entry.code === 'function' ? entry.code(op) : entry.code;
        expect(exitStatusFor(code), `${number} ${op}`).not.toBe(1);
      }
    }
    expect(exitStatusFor('SERVER_UNREACHABLE')).toBe(3);
    expect(exitStatusFor('KMSDATA_NOT_ON_SERVER')).toBe(3);
  });

  it('says what to do, and names the server when there is one', () => {
    expect(win32Error(5, at('query')).message).toBe(
      'querying MSExchangeKMS failed (OpenServiceW error 5 ERROR_ACCESS_DENIED): access denied: run kms-recover from an elevated prompt (Run as administrator) as a member of the server\'s Administrators group');
    expect(win32Error(1058, at('start', 'StartServiceW', '\\\\KMSSERVER')).message).toBe(
      'starting MSExchangeKMS on \\\\KMSSERVER failed (StartServiceW error 1058 ERROR_SERVICE_DISABLED): MSExchangeKMS is disabled: set its startup type to Manual (Services panel, or sc.exe \\\\KMSSERVER config MSExchangeKMS start= demand), then run kms-recover resume');
    expect(win32Error(1058, at('start', 'StartServiceW')).message).toMatch(/or sc\.exe config MSExchangeKMS start= demand\)/);
    const unreachable = win32Error(1722, at('connect', 'OpenSCManagerW', '\\\\KMSSERVER'));
    expect(unreachable.message).toMatch(/^connecting to the service control manager of \\\\KMSSERVER failed \(OpenSCManagerW error 1722 RPC_S_SERVER_UNAVAILABLE\): no route to \\\\KMSSERVER: .*SMB 1\.0\/CIFS Client/);
  });
});
