import { describe, expect, it } from 'vitest';
import { executableOf, kmsdataFromBinaryPath } from '../../host/windows/service-kmsdata.js';
import { caught } from '../helpers/rejection.js';

/* Where the KMS keeps its data, from the binary path QueryServiceConfigW gives (pure). */

describe('the program of a service\'s binary path', () => {
  it.each([
    ['C:\\exchsrvr\\bin\\kmserver.exe', 'C:\\exchsrvr\\bin\\kmserver.exe'],
    ['"C:\\Program Files\\Exchsrvr\\bin\\kmserver.exe" -debug', 'C:\\Program Files\\Exchsrvr\\bin\\kmserver.exe'],
    ['C:\\Program Files\\Exchsrvr\\bin\\KMSERVER.EXE -x y', 'C:\\Program Files\\Exchsrvr\\bin\\KMSERVER.EXE'],
    ['  D:\\exch\\bin\\kmserver.exe Z:\\conf.ini', 'D:\\exch\\bin\\kmserver.exe'],
    ['D:\\exch\\bin\\kmserver -a', 'D:\\exch\\bin\\kmserver'],
    ['"D:\\exch\\bin\\kmserver.exe', 'D:\\exch\\bin\\kmserver.exe'],
  ])('%s -> %s', (binaryPath, exe) => {
    expect(executableOf(binaryPath)).toBe(exe);
  });
});

describe('kmsdataFromBinaryPath', () => {
  it('gives <Exchsrvr>\\Kmsdata beside the bin folder', () => {
    expect(kmsdataFromBinaryPath('MSExchangeKMS', 'C:\\exchsrvr\\bin\\kmserver.exe')).toBe('C:\\exchsrvr\\Kmsdata');
    expect(kmsdataFromBinaryPath('MSExchangeKMS', '"E:\\Exch Server\\EXCHSRVR\\BIN\\kmserver.exe" -a')).toBe('E:\\Exch Server\\EXCHSRVR\\Kmsdata');
  });

  it('with --server, the same folder on that server\'s admin share', () => {
    expect(kmsdataFromBinaryPath('MSExchangeKMS', 'd:\\exchsrvr\\bin\\kmserver.exe', '\\\\KMS01')).toBe('\\\\KMS01\\D$\\exchsrvr\\Kmsdata');
  });

  it.each([
    ['%SystemDrive%\\exchsrvr\\bin\\kmserver.exe', 'environment variable'],
    ['kmserver.exe', 'not a full path on a drive'],
    ['\\\\other\\share\\bin\\kmserver.exe', 'not a full path on a drive'],
    ['C:\\exchsrvr\\kmserver.exe', 'not in a bin folder'],
  ])('refuses %s (%s), naming the binary path', (binaryPath, why) => {
    const error = caught(() => kmsdataFromBinaryPath('MSExchangeKMS', binaryPath));
    expect(error.code).toBe('KMSDATA_NOT_THE_SERVICES');
    expect(error.message).toContain(why);
    expect(error.message).toContain(JSON.stringify(binaryPath));
  });
});
