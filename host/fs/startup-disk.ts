import { readFile, stat } from 'node:fs/promises';
import { ALPHA_STRING_LENGTH } from '../../domain/index.js';
import { KmsRecoverError } from '../../errors/index.js';

/*
 * The Exchange 5.5 KMS startup disk: a `Kmspwd.ini` holding `[config]` then `pwd=<alpha string>`.
 * No message or detail here ever carries the password or any part of it: only lengths and line numbers.
 */

/** Larger than any real Kmspwd.ini by far; refuses to read some unrelated big file. */
const MAX_STARTUP_DISK_BYTES = 64 * 1024;

/** Printable ASCII without the space: `!` (0x21) to `~` (0x7e). */
const ALPHA_CHARACTERS = /^[\x21-\x7e]*$/;

function alphaProblem(value: string): string | undefined {
  const length = [...value].length;
  if (length !== ALPHA_STRING_LENGTH) return `${length} characters; an alpha string has ${ALPHA_STRING_LENGTH}`;
  if (!ALPHA_CHARACTERS.test(value)) return 'characters that are not printable ASCII (or spaces); an alpha string has none';
  return undefined;
}

/** Checks a typed or environment-supplied alpha string; returns it unchanged. */
export function validateAlphaString(value: string, source: string): string {
  const problem = alphaProblem(value);
  if (problem !== undefined) {
    throw new KmsRecoverError('ALPHA_INVALID', `${source} holds ${problem}`, { source, length: [...value].length });
  }
  return value;
}

function invalid(source: string, message: string, detail: Record<string, unknown> = {}): KmsRecoverError {
  return new KmsRecoverError('STARTUP_DISK_INVALID', `${source} ${message}`, { source, ...detail });
}

/** Strictly parses the text of a `Kmspwd.ini`; `source` names it in messages. Returns the alpha string. */
export function parseStartupDisk(text: string, source: string): string {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split(/\r\n|\n|\r/).map((line, index) => ({ number: index + 1, text: line.trim() }))
    .filter((line) => line.text !== '');
  const first = lines[0];
  if (first === undefined) throw invalid(source, 'is empty');

  const isConfig = (line: string): boolean => /^\[config\]$/i.test(line);
  if (!isConfig(first.text)) {
    const config = lines.find((line) => isConfig(line.text));
    if (config === undefined) throw invalid(source, 'has no [config] section');
    throw invalid(source, `has unexpected text on line ${first.number}, before the [config] section`, { line: first.number });
  }

  const passwords: string[] = [];
  for (const line of lines.slice(1)) {
    const equals = line.text.indexOf('=');
    const key = equals < 0 ? undefined : line.text.slice(0, equals).trim().toLowerCase();
    if (key !== 'pwd') {
      throw invalid(source, `has an unexpected line ${line.number}: only one pwd= line may follow [config]`, { line: line.number });
    }
    passwords.push(line.text.slice(equals + 1).trim());
  }
  const password = passwords[0];
  if (password === undefined) throw invalid(source, 'has no pwd= line under [config]');
  if (passwords.length > 1) throw invalid(source, `has ${passwords.length} pwd= lines under [config]; expected exactly one`);

  const problem = alphaProblem(password);
  if (problem !== undefined) throw invalid(source, `holds a password of ${problem}`, { length: [...password].length });
  return password;
}

/** Text of the file: UTF-8 (BOM or not), or UTF-16 when it starts with a UTF-16 byte-order mark (Notepad's "Unicode"). */
function decode(bytes: Buffer, source: string): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid(source, 'is not a text file');
  }
}

/** Reads and strictly parses a startup disk file (`A:\Kmspwd.ini`); returns the 14-character alpha string. */
export async function readStartupDisk(file: string): Promise<string> {
  const source = `startup disk ${file}`;
  let stats;
  try {
    stats = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new KmsRecoverError('STARTUP_DISK_MISSING', `${source} not found`, { file }, { cause: error });
    }
    throw new KmsRecoverError('STARTUP_DISK_MISSING', `${source} cannot be read (is the disk in the drive?): ${code ?? String(error)}`, { file, errno: code }, { cause: error });
  }
  if (stats.isDirectory()) throw invalid(source, 'is a folder, not a Kmspwd.ini file', { file });
  if (!stats.isFile()) throw invalid(source, 'is not a regular file', { file });
  if (stats.size > MAX_STARTUP_DISK_BYTES) throw invalid(source, `is ${stats.size} bytes, too large to be a Kmspwd.ini`, { file });

  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw invalid(source, `cannot be read: ${code ?? String(error)}`, { file, errno: code });
  }
  return parseStartupDisk(decode(bytes, source), source);
}
