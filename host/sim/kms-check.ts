import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * `kmscheck.dat`: the salted check of the alpha string a KMS database was created with.
 * The alpha string itself is never stored in a Kmsdata tree.
 */
export interface KmsCheck {
  kdf: 'scrypt';
  /** 16 random bytes, hex. */
  salt: string;
  /** scrypt(alpha, salt, 32), hex. */
  hash: string;
  /** Random id of this KMS installation. */
  kmsId: string;
}

const HEX = /^(?:[0-9a-f]{2})+$/;

export function makeKmsCheck(alpha: string, kmsId: string): KmsCheck {
  const salt = randomBytes(16);
  return { kdf: 'scrypt', salt: salt.toString('hex'), hash: scryptSync(alpha, salt, 32).toString('hex'), kmsId };
}

/** Strictly parse `kmscheck.dat`; undefined when it is not one. */
export function parseKmsCheck(text: string): KmsCheck | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (v.kdf !== 'scrypt' || typeof v.salt !== 'string' || typeof v.hash !== 'string' || typeof v.kmsId !== 'string') {
    return undefined;
  }
  if (!HEX.test(v.salt) || v.salt.length !== 32 || !HEX.test(v.hash) || v.hash.length !== 64) return undefined;
  return { kdf: 'scrypt', salt: v.salt, hash: v.hash, kmsId: v.kmsId };
}

export function alphaMatches(check: KmsCheck, alpha: string): boolean {
  const expected = Buffer.from(check.hash, 'hex');
  const actual = scryptSync(alpha, Buffer.from(check.salt, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}
