import readline from 'node:readline/promises';
import { KmsRecoverError } from '../errors/index.js';

/**
 * Asks the operator to confirm on a terminal (stderr, default no). Without a terminal the
 * answer must be given up front with --yes: scripts never get an implicit yes.
 */
export async function confirmOrRefuse(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new KmsRecoverError('CONFIRMATION_REQUIRED', `${question.replace(/\s+$/, '')} needs confirmation: run it on a terminal, or add --yes`);
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new KmsRecoverError('CONFIRMATION_REQUIRED', 'not confirmed: nothing was changed');
  } finally {
    rl.close();
  }
}
