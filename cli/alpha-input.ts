import { readAlphaString } from '../host/fs/index.js';
import { AlphaString } from '../recovery/alpha-string.js';

/** The alpha string from --startup-disk, KMS_ALPHA_STRING or a hidden prompt: never from an argument. */
export async function readAlpha(startupDisk: string | undefined): Promise<AlphaString> {
  const { alpha, source } = await readAlphaString({ startupDisk, env: process.env, stdin: process.stdin, stderr: process.stderr });
  return new AlphaString(alpha, source);
}
