import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { chooseAdapter, createHost } from '../../host/create-host.js';
import { checkServerName, createWindowsHost, encodeEventLogRecord, parseEventLogRecords, uncKmsdataParts } from '../../host/windows/index.js';
import { win32Loaded } from '../../host/windows/win32-ffi.js';
import { rejection } from '../helpers/rejection.js';

describe('--server NAME', () => {
  it('takes NAME or \\\\NAME; anything else is one USAGE line', () => {
    expect(checkServerName('KMSSERVER')).toBe('KMSSERVER');
    expect(checkServerName('\\\\kmsserver.example.local')).toBe('kmsserver.example.local');
    for (const bad of ['', 'KMS SERVER', 'a\\b', '-x', 'x;calc', '..', 'C:']) {
      const error = (() => { try { checkServerName(bad); } catch (e) { return e as { code: string; message: string }; } return undefined; })();
      expect(error?.code, bad).toBe('USAGE');
      expect(error?.message).toMatch(/^--server takes the name of a Windows server/);
    }
  });

  it('Kmsdata must be on that server\'s admin share, any drive', () => {
    expect(uncKmsdataParts('\\\\KMSSERVER\\C$\\exchsrvr\\KMSDATA', 'KMSSERVER')).toEqual({ host: 'KMSSERVER', share: 'C$', shareRoot: '\\\\KMSSERVER\\C$\\' });
    expect(uncKmsdataParts('\\\\kmsserver\\d$\\Exchsrvr\\Kmsdata', '\\\\KMSSERVER').share).toBe('d$');
    const refused = (kmsdata: string) => {
      try { uncKmsdataParts(kmsdata, 'KMSSERVER'); } catch (e) { return e as { code: string; message: string }; }
      return undefined;
    };
    expect(refused('C:\\exchsrvr\\KMSDATA')).toMatchObject({ code: 'KMSDATA_NOT_ON_SERVER', message: expect.stringMatching(/is not a network path/) });
    expect(refused('\\\\OTHER\\C$\\exchsrvr\\KMSDATA')).toMatchObject({ code: 'KMSDATA_NOT_ON_SERVER', message: expect.stringMatching(/is on \\\\OTHER, not on --server KMSSERVER/) });
    expect(refused('\\\\KMSSERVER\\kms\\exchsrvr\\KMSDATA')).toMatchObject({ code: 'KMSDATA_NOT_ON_SERVER', message: expect.stringMatching(/on the share kms; use the server's admin share/) });
  });

  it('is stored in the adapter config, so resume drives the same server; not with the simulator', () => {
    expect(chooseAdapter('windows', { kmsdata: '\\\\KMSSERVER\\C$\\exchsrvr\\KMSDATA', server: '\\\\KMSSERVER' }, 'win32'))
      .toEqual({ name: 'windows', config: { server: 'KMSSERVER' } });
    expect(chooseAdapter(undefined, { kmsdata: 'x', server: 'KMSSERVER' }, 'win32').name).toBe('windows');
    expect(chooseAdapter('windows', { kmsdata: 'C:\\exchsrvr\\KMSDATA' }, 'win32')).toEqual({ name: 'windows', config: {} });
    expect(() => chooseAdapter('sim', { kmsdata: '/x/Exchsrvr/Kmsdata', server: 'KMSSERVER' }, 'linux')).toThrow(/--server drives a Windows server's service control manager/);
    expect(() => chooseAdapter(undefined, { kmsdata: '/x', server: 'KMSSERVER' }, 'linux')).toThrow(/the windows adapter calls the Windows service control manager API/);
  });
});

describe('koffi is loaded on Windows only, and lazily', () => {
  it('importing and building the windows host loads nothing; its first call off Windows is ADAPTER_UNSUPPORTED', async () => {
    const host = createWindowsHost();
    expect(win32Loaded()).toBe(false);
    if (process.platform === 'win32') return;
    expect((await rejection(host.queryService('MSExchangeKMS'))).code).toBe('ADAPTER_UNSUPPORTED');
    expect(win32Loaded()).toBe(false);
    expect(createRequire(import.meta.url).cache[createRequire(import.meta.url).resolve('koffi')]).toBeUndefined();
    await expect(createHost({ name: 'windows', config: { server: 'KMSSERVER' } })).rejects.toMatchObject({ code: 'ADAPTER_UNSUPPORTED' });
  });
});

describe('Application-log records (EVENTLOGRECORD)', () => {
  it('reads back what the layout holds: id, type, time, source, insertion strings', () => {
    const a = encodeEventLogRecord({ id: 0xc0000001, type: 0x0001, timeGenerated: 1_700_000_000, source: 'MSExchangeKMS', strings: ['The Exchange KM service failed to start.'] });
    const b = encodeEventLogRecord({ id: 7036, type: 0x0004, timeGenerated: 1_700_000_005, source: 'Service Control Manager', strings: ['a', 'b'] });
    const buffer = Buffer.concat([a, b]);
    expect(parseEventLogRecords(buffer)).toEqual([
      { id: 1, type: 'error', timeGenerated: 1_700_000_000, source: 'MSExchangeKMS', strings: ['The Exchange KM service failed to start.'] },
      { id: 7036, type: 'information', timeGenerated: 1_700_000_005, source: 'Service Control Manager', strings: ['a', 'b'] },
    ]);
    // A record cut short is not read.
    expect(parseEventLogRecords(buffer, a.length + 10)).toHaveLength(1);
  });
});
