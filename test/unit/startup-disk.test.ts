import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmsRecoverError } from '../../errors/index.js';
import { ALPHA_STRING_LENGTH } from '../../domain/index.js';
import { parseStartupDisk, readStartupDisk, validateAlphaString } from '../../host/fs/startup-disk.js';
import { caught, rejection } from '../helpers/rejection.js';

const ALPHA = 'Ab3$xY9!qR2#kL';

describe('parseStartupDisk', () => {
  it('has a 14-character alpha string constant', () => {
    expect(ALPHA_STRING_LENGTH).toBe(14);
    expect(ALPHA).toHaveLength(ALPHA_STRING_LENGTH);
  });

  it.each([
    ['LF', `[config]\npwd=${ALPHA}\n`],
    ['CRLF', `[config]\r\npwd=${ALPHA}\r\n`],
    ['UTF-8 BOM', `\uFEFF[config]\r\npwd=${ALPHA}\r\n`],
    ['blank lines and surrounding whitespace', `\n\n  [CONFIG]  \r\n\r\n\t PWD=${ALPHA}  \n\n`],
    ['no trailing newline', `[Config]\npwd=${ALPHA}`],
  ])('reads the password from a good file (%s)', (_name, text) => {
    expect(parseStartupDisk(text, 'A:\\Kmspwd.ini')).toBe(ALPHA);
  });

  it.each([
    ['empty', '', 'A:\\Kmspwd.ini is empty'],
    ['only whitespace and a BOM', '\uFEFF \r\n\n', 'A:\\Kmspwd.ini is empty'],
    ['no [config] section', `pwd=${ALPHA}\n`, 'A:\\Kmspwd.ini has no [config] section'],
    ['other section', `[other]\npwd=${ALPHA}\n`, 'A:\\Kmspwd.ini has no [config] section'],
    ['no pwd line', '[config]\n', 'A:\\Kmspwd.ini has no pwd= line under [config]'],
    ['junk before [config]', `junk\n[config]\npwd=${ALPHA}\n`, 'A:\\Kmspwd.ini has unexpected text on line 1, before the [config] section'],
    ['another key', `[config]\npwd=${ALPHA}\nuser=admin\n`, 'A:\\Kmspwd.ini has an unexpected line 3: only one pwd= line may follow [config]'],
    ['junk line', `[config]\n${ALPHA}\n`, 'A:\\Kmspwd.ini has an unexpected line 2: only one pwd= line may follow [config]'],
    ['a second section', `[config]\npwd=${ALPHA}\n[more]\n`, 'A:\\Kmspwd.ini has an unexpected line 3: only one pwd= line may follow [config]'],
    ['two pwd lines', `[config]\npwd=${ALPHA}\npwd=${ALPHA}\n`, 'A:\\Kmspwd.ini has 2 pwd= lines under [config]; expected exactly one'],
    ['short password', '[config]\npwd=short\n', 'A:\\Kmspwd.ini holds a password of 5 characters; an alpha string has 14'],
    ['long password', `[config]\npwd=${ALPHA}X\n`, 'A:\\Kmspwd.ini holds a password of 15 characters; an alpha string has 14'],
    ['empty password', '[config]\npwd=\n', 'A:\\Kmspwd.ini holds a password of 0 characters; an alpha string has 14'],
    ['space inside password', '[config]\npwd=Ab3$xY9 qR2#kL\n', 'A:\\Kmspwd.ini holds a password of characters that are not printable ASCII (or spaces); an alpha string has none'],
    ['non-ASCII password', '[config]\npwd=Ab3$xY9éqR2#kL\n', 'A:\\Kmspwd.ini holds a password of characters that are not printable ASCII (or spaces); an alpha string has none'],
  ])('rejects a bad file (%s)', (_name, text, message) => {
    const error = caught(() => parseStartupDisk(text, 'A:\\Kmspwd.ini'));
    expect(error.code).toBe('STARTUP_DISK_INVALID');
    expect(error.message).toBe(message);
  });

  it('never puts the password, or a piece of it, in a message or detail', () => {
    const secrets = ['Zq7!Wm2@Xp9#Rt4$', 'Zq7!W', 'Zq7!Wm2@ Xp9#Rt', 'Zq7!Wm2@éXp9#Rt'];
    for (const secret of secrets) {
      for (const text of [`[config]\npwd=${secret}\n`, `[config]\n${secret}\n`, `${secret}\n[config]\npwd=${secret}\n`, `[config]\npwd=${secret}\npwd=${secret}\n`]) {
        const error = caught(() => parseStartupDisk(text, 'A:\\Kmspwd.ini'));
        const shown = `${error.message} ${JSON.stringify(error.detail)}`;
        for (let start = 0; start + 4 <= secret.length; start += 1) {
          expect(shown).not.toContain(secret.slice(start, start + 4));
        }
      }
    }
  });
});

describe('validateAlphaString', () => {
  it('returns a good alpha string unchanged', () => {
    expect(validateAlphaString(ALPHA, 'KMS_ALPHA_STRING')).toBe(ALPHA);
  });

  it('rejects a wrong length with the length but not the value', () => {
    const value = 'Qw8%Er5^Ty';
    const error = caught(() => validateAlphaString(value, 'KMS_ALPHA_STRING'));
    expect(error.code).toBe('ALPHA_INVALID');
    expect(error.message).toBe('KMS_ALPHA_STRING holds 10 characters; an alpha string has 14');
    expect(`${error.message} ${JSON.stringify(error.detail)}`).not.toContain('Qw8%');
  });

  it('rejects a trailing space', () => {
    const error = caught(() => validateAlphaString('Ab3$xY9!qR2#k ', 'KMS_ALPHA_STRING'));
    expect(error.code).toBe('ALPHA_INVALID');
    expect(error.message).not.toContain('Ab3$');
  });
});

describe('readStartupDisk', () => {
  let tmp: string;

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kms-startup-disk-'));
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('reads a good Kmspwd.ini (CRLF, BOM)', async () => {
    const file = path.join(tmp, 'Kmspwd.ini');
    await writeFile(file, `\uFEFF[config]\r\npwd=${ALPHA}\r\n`);
    await expect(readStartupDisk(file)).resolves.toBe(ALPHA);
  });

  it('reads a UTF-16 Kmspwd.ini saved by Notepad as "Unicode"', async () => {
    const file = path.join(tmp, 'Kmspwd.ini');
    await writeFile(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`[config]\r\npwd=${ALPHA}\r\n`, 'utf16le')]));
    await expect(readStartupDisk(file)).resolves.toBe(ALPHA);
  });

  it('names a missing file', async () => {
    const file = path.join(tmp, 'Kmspwd.ini');
    const error = await rejection(readStartupDisk(file));
    expect(error.code).toBe('STARTUP_DISK_MISSING');
    expect(error.message).toBe(`startup disk ${file} not found`);
  });

  it('rejects a folder', async () => {
    const dir = path.join(tmp, 'Kmspwd.ini');
    await mkdir(dir);
    const error = await rejection(readStartupDisk(dir));
    expect(error.code).toBe('STARTUP_DISK_INVALID');
    expect(error.message).toBe(`startup disk ${dir} is a folder, not a Kmspwd.ini file`);
  });

  it('rejects an empty file', async () => {
    const file = path.join(tmp, 'Kmspwd.ini');
    await writeFile(file, '');
    const error = await rejection(readStartupDisk(file));
    expect(error.code).toBe('STARTUP_DISK_INVALID');
    expect(error.message).toBe(`startup disk ${file} is empty`);
  });

  it('rejects a binary file', async () => {
    const file = path.join(tmp, 'Kmspwd.ini');
    await writeFile(file, Buffer.from([0x5b, 0xc3, 0x28, 0x00, 0xff]));
    const error = await rejection(readStartupDisk(file));
    expect(error.code).toBe('STARTUP_DISK_INVALID');
    expect(error.message).toBe(`startup disk ${file} is not a text file`);
  });

  it('reports a wrong-length password without showing it', async () => {
    const file = path.join(tmp, 'Kmspwd.ini');
    await writeFile(file, '[config]\r\npwd=Hj4&Kl7*Mn0(Pq3)\r\n');
    const error = await rejection(readStartupDisk(file));
    expect(error.code).toBe('STARTUP_DISK_INVALID');
    expect(error.message).toBe(`startup disk ${file} holds a password of 16 characters; an alpha string has 14`);
    expect(`${error.message} ${JSON.stringify(error.detail)}`).not.toMatch(/Hj4&|Kl7\*|Mn0\(|Pq3\)/);
  });
});
