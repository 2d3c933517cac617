import { ALPHA_ENV_VAR, readAlphaString } from '../host/fs/index.js';
import { startupDiskFile } from '../host/windows/startup-disk-path.js';
import { AlphaString } from '../recovery/alpha-string.js';

/** The alpha string from --startup-disk, KMS_ALPHA_STRING or a hidden prompt: never from an argument. */
export async function readAlpha(startupDisk: string | undefined): Promise<AlphaString> {
  // `--startup-disk A:` means the Kmspwd.ini on that drive, as the KMS itself reads it.
  const file = startupDisk === undefined ? undefined : startupDiskFile(startupDisk);
  const { alpha, source } = await readAlphaString({ startupDisk: file, env: process.env, stdin: process.stdin, stderr: process.stderr });
  return new AlphaString(alpha, source);
}

/**
 * For `start --dry-run`: the alpha string only if it was given (--startup-disk, KMS_ALPHA_STRING),
 * read as the start would read it; never a prompt. Null: the start will ask for it.
 */
export async function readAlphaIfGiven(startupDisk: string | undefined): Promise<AlphaString | null> {
  if (startupDisk === undefined && process.env[ALPHA_ENV_VAR] === undefined) return null;
  return readAlpha(startupDisk);
}
