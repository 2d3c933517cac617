import type { AlphaSource } from '../../domain/index.js';
import { KmsRecoverError } from '../../errors/index.js';
import { readStartupDisk, validateAlphaString } from './startup-disk.js';


export interface ReadAlphaOptions {
  startupDisk?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadStream;
  stderr?: NodeJS.WriteStream;
  readDisk?: (file: string) => Promise<string>;
}

export const ALPHA_ENV_VAR = 'KMS_ALPHA_STRING';
const PROMPT = 'Alpha string of the original Key Management Server: ';

/**
 * Where the original KMS alpha string comes from, in order: the startup disk, the environment,
 * a hidden prompt on a terminal. The value is never written anywhere.
 */
export async function readAlphaString(opts: ReadAlphaOptions = {}): Promise<{ alpha: string; source: AlphaSource }> {
  if (opts.startupDisk !== undefined) {
    const alpha = await (opts.readDisk ?? readStartupDisk)(opts.startupDisk);
    return { alpha, source: 'startup-disk' };
  }
  const fromEnv = (opts.env ?? process.env)[ALPHA_ENV_VAR];
  if (fromEnv !== undefined) {
    return { alpha: validateAlphaString(fromEnv, ALPHA_ENV_VAR), source: 'environment' };
  }
  const stdin = opts.stdin ?? process.stdin;
  if (stdin.isTTY) {
    const typed = await promptHidden(stdin, opts.stderr ?? process.stderr, PROMPT);
    return { alpha: validateAlphaString(typed, 'the typed alpha string'), source: 'prompt' };
  }
  throw new KmsRecoverError('CREDENTIAL_MISSING',
    `no alpha string: pass --startup-disk <Kmspwd.ini>, set ${ALPHA_ENV_VAR}, or run on a terminal to type it`);
}

/**
 * Reads one line in raw mode so nothing is echoed. Raw mode also swallows Ctrl-C as a byte, so it is
 * handled here: the terminal is restored and the prompt rejects as cancelled.
 */
export function promptHidden(stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream, prompt: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const wasRaw = stdin.isRaw;
    let typed = '';
    let settled = false;

    const finish = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      stdin.off('data', onData);
      stdin.off('error', onError);
      stdin.off('end', onEnd);
      try { stdin.setRawMode(wasRaw); } catch { /* the terminal is gone */ }
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const cancelled = (how: string): KmsRecoverError =>
      new KmsRecoverError('CREDENTIAL_MISSING', `no alpha string: the prompt was cancelled (${how})`, { cancelled: true });
    // Ctrl-C is the operator stopping the command, as at any other moment: exit 130 (SIGINT's),
    // and nothing has changed yet (the alpha string is asked for before any step runs).
    const interrupted = (): KmsRecoverError =>
      new KmsRecoverError('INTERRUPTED', 'stopped by Ctrl-C at the alpha string prompt; nothing was changed', { cancelled: true });

    const onData = (chunk: Buffer | string): void => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (text.startsWith('\u001b')) return; // arrow and function keys: ignore the whole escape sequence
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') return finish(undefined);
        if (ch === '\u0003') return finish(interrupted());
        if (ch === '\u0004') return finish(typed === '' ? cancelled('Ctrl-D') : undefined);
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (ch === '\u0015') typed = '';
        else if (ch >= ' ') typed += ch;
      }
    };
    const onError = (error: Error): void => finish(new KmsRecoverError('CREDENTIAL_MISSING',
      `no alpha string: the terminal could not be read (${(error as NodeJS.ErrnoException).code ?? error.message})`, {}, { cause: error }));
    const onEnd = (): void => finish(cancelled('end of input'));

    try {
      // Raw mode before the prompt shows: a key typed as soon as it is seen is never echoed, and
      // a Ctrl-C is this prompt's, not the terminal's signal.
      stdin.setRawMode(true);
      stderr.write(prompt);
      stdin.on('data', onData);
      stdin.once('error', onError);
      stdin.once('end', onEnd);
      stdin.resume();
    } catch (error) {
      finish(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
