import { seededRandom } from '../helpers/kill-schedule.js';

/**
 * The faults of one trial of the fault lane: libfiu's failure points (its POSIX preload,
 * `fiu-run -x`) made to fail with EIO at random, and libfiu's own random generator seeded, so a
 * campaign is replayed from its seed (as far as the order of the calls of libuv's threads allows).
 */
export interface FaultPlan {
  index: number;
  /** What fails: `pwrite`, `fsync` (fsync and fdatasync), `rename`, or all three. */
  target: FaultTarget;
  /** The chance that each call of the target fails. */
  probability: number;
  /** FIU_PRNG_SEED: libfiu's generator, which draws for every call of an enabled point. */
  fiuSeed: number;
}

export type FaultTarget = 'pwrite' | 'fsync' | 'rename' | 'all';

/** libfiu's names of the calls of each target (preload/posix/modules/posix.io.mod). */
const POINTS: Readonly<Record<Exclude<FaultTarget, 'all'>, readonly string[]>> = {
  pwrite: ['posix/io/rw/pwrite', 'posix/io/rw/pwritev'],
  fsync: ['posix/io/sync/fsync', 'posix/io/sync/fdatasync'],
  rename: ['posix/io/dir/rename'],
};

/**
 * About half the calls of each target a `start` on the default simulated server makes (counted
 * with strace: 176 pwrite64, 58 fsync, 10 rename): a trial's probability is 1 / (1 + k) for k
 * drawn up to that, so the first fault falls anywhere in the first half of the run or later,
 * early (the database being created) as often as late (the restore, the promotion, the finish),
 * and most trials meet at least one.
 */
const CALLS: Readonly<Record<Exclude<FaultTarget, 'all'>, number>> = { pwrite: 90, fsync: 30, rename: 6 };

const EIO = 5;

export function faultPlan(seed: number, trials: number): FaultPlan[] {
  const random = seededRandom(seed);
  const targets: FaultTarget[] = ['pwrite', 'fsync', 'rename', 'all'];
  return Array.from({ length: trials }, (_, index) => {
    // Every target in turn (a trial of each in every four), the probability at random.
    const target = targets[index % targets.length]!;
    const calls = target === 'all' ? CALLS.pwrite + CALLS.fsync + CALLS.rename : CALLS[target];
    const probability = 1 / (1 + Math.floor(random() * calls));
    return { index, target, probability: Number(probability.toPrecision(3)), fiuSeed: 1 + Math.floor(random() * 2 ** 30) };
  });
}

/** `fiu-run` options enabling the plan's failure points: `-c 'enable_random name=...,probability=...,failinfo=5'` each. */
export function fiuRunArgs(plan: FaultPlan): string[] {
  const points = plan.target === 'all' ? Object.values(POINTS).flat() : POINTS[plan.target];
  // -x: the POSIX preload; -f '': no remote-control pipes left in /tmp.
  return ['-x', '-f', '', ...points.flatMap((name) => ['-c', `enable_random name=${name},probability=${plan.probability},failinfo=${EIO}`])];
}

export function describePlan(plan: FaultPlan): string {
  return `EIO in ${plan.target === 'all' ? 'pwrite, fsync and rename' : plan.target}, p=${plan.probability}, FIU_PRNG_SEED=${plan.fiuSeed}`;
}
