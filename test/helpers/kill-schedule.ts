import { randomInt } from 'node:crypto';

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). Same seed, same sequence, on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of a crash campaign: KMS_RECOVER_KILL_SEED if set (to replay a failure), else a fresh one. */
export function campaignSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.KMS_RECOVER_KILL_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`KMS_RECOVER_KILL_SEED must be a whole number, not ${given}`);
    return seed >>> 0;
  }
  return randomInt(0, 2 ** 31);
}

/** A positive whole number from the environment, else the default. */
export function envCount(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const given = env[name];
  if (given === undefined || given === '') return fallback;
  const n = Number(given);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a whole number of 1 or more, not ${given}`);
  return n;
}

export interface PlannedKill {
  /** Index over the whole campaign (all shards). */
  index: number;
  /** Where in the run, as a fraction of a full run's duration, the kill falls: [0, 1). */
  fraction: number;
  /** Whether a power loss and boot (`sim reboot`) follows the kill. */
  reboot: boolean;
}

/**
 * The kills of one shard of a campaign of `total` kills. The timeline of a full run is cut into
 * `total` equal slices and kill k falls at a random point of slice k (stratified sampling: every
 * part of the run is hit, however the dice fall); shard s of n takes the kills k ≡ s (mod n), so
 * shards running in parallel share the timeline. About one kill in three is followed by a reboot.
 */
export function killPlan(seed: number, total: number, shard: number, shards: number): PlannedKill[] {
  const random = seededRandom(seed);
  const all: PlannedKill[] = [];
  for (let index = 0; index < total; index++) {
    const fraction = (index + random()) / total;
    const reboot = random() < 1 / 3;
    all.push({ index, fraction, reboot });
  }
  return all.filter((k) => k.index % shards === shard);
}
