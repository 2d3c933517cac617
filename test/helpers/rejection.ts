import { expect } from 'vitest';
import { KmsRecoverError } from '../../errors/index.js';

/** The KmsRecoverError a promise rejects with (fails the test if it resolves or throws anything else). */
export async function rejection(promise: Promise<unknown>): Promise<KmsRecoverError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KmsRecoverError);
    return error as KmsRecoverError;
  }
  throw new Error('expected a KmsRecoverError');
}

/** The KmsRecoverError a synchronous action throws (fails the test if it returns or throws anything else). */
export function caught(action: () => unknown): KmsRecoverError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(KmsRecoverError);
    return error as KmsRecoverError;
  }
  throw new Error('expected a KmsRecoverError');
}
