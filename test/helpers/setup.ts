import { expect } from 'vitest';

/**
 * Bytes are equal when Buffer.equals says so. Vitest's own equality walks a Buffer (a
 * Uint8Array) element by element, which makes comparing two 2 MB Kmsdata trees (treeBytes)
 * take seconds; the result is the same, exact to the byte.
 */
expect.addEqualityTesters([
  function buffersEqual(a: unknown, b: unknown): boolean | undefined {
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : undefined;
  },
]);
