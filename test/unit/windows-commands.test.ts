import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KmsRecoverError } from '../../errors/index.js';
import { chooseAdapter, defaultAdapter } from '../../host/create-host.js';
import { assertKmsdataName, isInside, samePath } from '../../host/fs/kmsdata-path.js';
import { buildStartInput, buildStartScript, parseStartResult, RESULT_MARKER } from '../../host/windows/powershell-start.js';
import { checkServiceName, powershellArgs, resolveWindowsTools, scQueryArgs, scStopArgs } from '../../host/windows/sc-commands.js';
import { startupDiskFile } from '../../host/windows/startup-disk-path.js';
import { describeExitCodes } from '../../host/windows/windows-service-control.js';

const ALPHA = 'Q7#kv!pZ2m@Lx9';

function thrown(fn: () => unknown): KmsRecoverError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(KmsRecoverError);
    return error as KmsRecoverError;
  }
  throw new Error('expected a KmsRecoverError');
}

describe('the programs', () => {
  it('on Windows: the real sc.exe and powershell.exe under %SystemRoot%\\System32, never a PATH search', () => {
    expect(resolveWindowsTools({ platform: 'win32', env: { SystemRoot: 'C:\\WINNT' } })).toEqual({
      sc: 'C:\\WINNT\\System32\\sc.exe',
      powershell: 'C:\\WINNT\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
    });
    expect(resolveWindowsTools({ platform: 'win32', env: {} }).sc).toBe('C:\\Windows\\System32\\sc.exe');
  });

  it('a tool folder (the tests\' stand-ins) overrides both', () => {
    expect(resolveWindowsTools({ platform: 'linux', toolDirectory: '/tmp/bin' })).toEqual({ sc: '/tmp/bin/sc.exe', powershell: '/tmp/bin/powershell.exe' });
    expect(resolveWindowsTools({ platform: 'win32', toolDirectory: 'D:\\tools' }).powershell).toBe('D:\\tools\\powershell.exe');
  });

  it('elsewhere (tests only): the bare names, looked up on PATH', () => {
    expect(resolveWindowsTools({ platform: 'linux' })).toEqual({ sc: 'sc.exe', powershell: 'powershell.exe' });
  });
});

describe('argument vectors', () => {
  it('sc.exe query / stop <service>', () => {
    expect(scQueryArgs('MSExchangeKMS')).toEqual(['query', 'MSExchangeKMS']);
    expect(scStopArgs('MSExchangeKMS')).toEqual(['stop', 'MSExchangeKMS']);
  });

  it('PowerShell reads its script from standard input', () => {
    expect(powershellArgs()).toEqual(['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', '-']);
  });

  it('refuses a service name that is not a plain name', () => {
    for (const bad of ['', 'MS Exchange', 'x"; Remove-Item', "a'b", '/?', 'a\r\nb']) expect(() => checkServiceName(bad)).toThrow();
  });
});

describe('the PowerShell start script', () => {
  const script = buildStartScript({ service: 'MSExchangeKMS', timeoutMs: 120_000, pollMs: 250 });

  it('is one line whose first statement reads the alpha string from standard input', () => {
    expect(script).not.toMatch(/[\r\n]/);
    expect(script.startsWith('$alpha = [Console]::In.ReadLine();')).toBe(true);
  });

  it('starts the service with the alpha string as its one start parameter and waits for Running or Stopped', () => {
    expect(script).toContain("New-Object System.ServiceProcess.ServiceController 'MSExchangeKMS'");
    expect(script).toContain('$svc.Start([string[]]@($alpha))');
    expect(script).toContain('AddMilliseconds(120000)');
    expect(script).toContain("$state -eq 'Running' -or $state -eq 'Stopped'");
    expect(script).toContain("Get-EventLog -LogName Application -Source 'MSExchangeKMS'");
    expect(script).toContain(RESULT_MARKER.trim());
  });

  it('forgets the alpha string on every path after the start', () => {
    expect(script.match(/\$alpha = \$null/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it('standard input: the script line, then the alpha string line; the script holds no secret', () => {
    const input = buildStartInput(script, ALPHA);
    expect(input).toBe(`${script}\r\n${ALPHA}\r\n`);
    expect(script).not.toContain(ALPHA);
    expect(() => buildStartInput(script, 'two\nlines')).toThrow();
    expect(() => buildStartInput(script, '')).toThrow();
    expect(() => buildStartInput(`${script}\n`, ALPHA)).toThrow();
  });

  it('parses every result the script can print', () => {
    const line = (o: unknown) => `noise\r\n${RESULT_MARKER}${JSON.stringify(o)}\r\n`;
    expect(parseStartResult(line({ ok: true, status: 'Running' }))).toEqual({ ok: true, status: 'Running' });
    expect(parseStartResult(line({ ok: false, reason: 'open-failed', win32: 1060, message: 'x' }))).toEqual({ ok: false, reason: 'open-failed', win32: 1060, message: 'x' });
    expect(parseStartResult(line({ ok: false, reason: 'start-refused', win32: null, message: 'y' }))).toEqual({ ok: false, reason: 'start-refused', message: 'y' });
    expect(parseStartResult(line({ ok: false, reason: 'stopped', status: 'Stopped', events: [{ id: 5006, type: 'Error', message: 'm' }, 'junk'] })))
      .toEqual({ ok: false, reason: 'stopped', status: 'Stopped', events: [{ id: 5006, type: 'Error', message: 'm' }] });
    expect(parseStartResult(line({ ok: false, reason: 'timeout', status: 'StartPending' }))).toEqual({ ok: false, reason: 'timeout', status: 'StartPending', events: [] });
    expect(parseStartResult(`PS C:\\> ${RESULT_MARKER}{"ok":true,"status":"Running"}\r\nPS C:\\> `)).toEqual({ ok: true, status: 'Running' });
    expect(parseStartResult('PS> nothing\r\n')).toBeUndefined();
    expect(parseStartResult(`${RESULT_MARKER}{not json`)).toBeUndefined();
    expect(parseStartResult(line({ ok: false, reason: 'other' }))).toBeUndefined();
  });

  it('describes the exit codes sc.exe reports', () => {
    expect(describeExitCodes({ win32ExitCode: 1066, serviceExitCode: 1 })).toBe('service specific error 1 (WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE 1)');
    expect(describeExitCodes({ win32ExitCode: 1053, serviceExitCode: 0 })).toBe('Windows error 1053 (WIN32_EXIT_CODE 1053)');
    expect(describeExitCodes({ win32ExitCode: 0, serviceExitCode: 0 })).toBeUndefined();
  });
});

describe('Windows paths (path.win32, checked here on any platform)', () => {
  it('accepts ...\\Exchsrvr\\Kmsdata on any drive or share, names in any case', () => {
    for (const p of ['C:\\exchsrvr\\KMSDATA', 'C:\\EXCHSRVR\\Kmsdata', 'D:\\Program Files\\Exchsrvr\\kmsdata', '\\\\server\\share\\Exchsrvr\\Kmsdata']) {
      expect(() => assertKmsdataName(path.win32.resolve(p), path.win32)).not.toThrow();
    }
    expect(path.win32.resolve('C:\\exchsrvr\\KMSDATA\\')).toBe('C:\\exchsrvr\\KMSDATA');
  });

  it('refuses a root, a wrong name, and forms Windows reads differently', () => {
    for (const p of ['C:\\', 'C:\\Kmsdata', 'C:\\exchsrvr\\Kmsdata2', 'C:\\Exchange\\Kmsdata', 'C:\\exchsrvr\\Kmsdata.', 'C:\\exchsrvr\\Kmsdata:stream', 'C:\\EXCHSR~1\\KMSDATA']) {
      expect(thrown(() => assertKmsdataName(path.win32.resolve(p), path.win32)).code).toBe('NOT_KMSDATA');
    }
    expect(thrown(() => assertKmsdataName('C:\\', path.win32)).message).toBe('C:\\ is a file system root, not a Kmsdata folder');
  });

  it('compares paths case-insensitively and knows drives apart', () => {
    expect(samePath('C:\\Exchsrvr\\Kmsdata', 'c:\\EXCHSRVR\\kmsdata', path.win32)).toBe(true);
    expect(samePath('/a/Kmsdata', '/a/kmsdata', path.posix)).toBe(false);
    expect(isInside('C:\\Exchsrvr\\Kmsdata\\backup', 'c:\\exchsrvr\\kmsdata', path.win32)).toBe(true);
    expect(isInside('D:\\backup\\Kmsdata', 'C:\\exchsrvr\\Kmsdata', path.win32)).toBe(false);
    expect(isInside('C:\\exchsrvr\\Kmsdata', 'C:\\exchsrvr\\Kmsdata', path.win32)).toBe(false);
    expect(isInside('C:\\exchsrvr\\Kmsdata2', 'C:\\exchsrvr\\Kmsdata', path.win32)).toBe(false);
  });

  it('the startup disk: a drive alone means its Kmspwd.ini; any other path is the file', () => {
    expect(startupDiskFile('A:')).toBe('A:\\Kmspwd.ini');
    expect(startupDiskFile('a:\\')).toBe('A:\\Kmspwd.ini');
    expect(startupDiskFile('A:\\Kmspwd.ini')).toBe('A:\\Kmspwd.ini');
    expect(startupDiskFile('D:\\copies\\old-kms\\KMSPWD.INI')).toBe('D:\\copies\\old-kms\\KMSPWD.INI');
    expect(startupDiskFile('\\\\fs1\\kms\\Kmspwd.ini')).toBe('\\\\fs1\\kms\\Kmspwd.ini');
  });
});

describe('adapter selection', () => {
  it('windows is the default on win32, sim elsewhere', () => {
    expect(defaultAdapter('win32')).toBe('windows');
    expect(defaultAdapter('linux')).toBe('sim');
    expect(chooseAdapter(undefined, { kmsdata: 'C:\\exchsrvr\\Kmsdata' }, 'win32')).toEqual({ name: 'windows', config: {} });
    expect(chooseAdapter(undefined, { kmsdata: '/srv/x/Exchsrvr/Kmsdata' }, 'linux')).toEqual({ name: 'sim', config: { simRoot: '/srv/x' } });
  });

  it('refuses --adapter windows off Windows, and unknown adapters', () => {
    const error = thrown(() => chooseAdapter('windows', { kmsdata: '/x/Exchsrvr/Kmsdata' }, 'linux'));
    expect(error.code).toBe('ADAPTER_UNSUPPORTED');
    expect(error.message).toBe('the windows adapter drives sc.exe and PowerShell on the Exchange server itself; this is linux: use --adapter sim to practise');
    expect(thrown(() => chooseAdapter('ssh', { kmsdata: '/x/Exchsrvr/Kmsdata' }, 'linux')).message).toBe('unknown adapter "ssh" (available: sim, windows)');
  });
});
