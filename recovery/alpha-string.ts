import { inspect } from 'node:util';
import type { AlphaSource } from '../domain/index.js';

/**
 * The alpha string, held only in this process's memory. It prints, logs and serializes as a
 * placeholder, so a stray `console.log`, pino call or JSON.stringify cannot leak it; only
 * `reveal()` gives the value, and only a service start calls it (the start step, `sim start`).
 */
export class AlphaString {
  readonly #value: string;
  readonly source: AlphaSource;

  constructor(value: string, source: AlphaSource) {
    this.#value = value;
    this.source = source;
  }

  get length(): number {
    return this.#value.length;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return '[alpha string]';
  }

  toString(): string {
    return '[alpha string]';
  }

  [inspect.custom](): string {
    return `AlphaString(${this.source}, ${this.length} characters)`;
  }
}

/**
 * Where a drive gets the alpha string when a step needs it: given at the start (read before
 * anything changed), or, for a `confirm`, asked at the hidden prompt only once the step that
 * needs it comes, after the operator's step was verified on the server. Asked once.
 */
export type AlphaSupply = () => Promise<AlphaString | null>;

/** An alpha string already read (or none: the credential steps then fail clearly). */
export function givenAlpha(alpha: AlphaString | null): AlphaSupply {
  return () => Promise.resolve(alpha);
}

/** An alpha string read when first needed, and only once. */
export function alphaWhenNeeded(read: () => Promise<AlphaString>): AlphaSupply {
  let reading: Promise<AlphaString> | undefined;
  return () => (reading ??= read());
}
