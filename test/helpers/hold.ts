import fs from 'node:fs';
import path from 'node:path';
import type { CliResult, SpawnedCli } from './run-cli.js';
import { until } from './wait.js';

/**
 * A point of a kms-recover process held until the test releases it (host/fail-point.ts,
 * `<point>@<file>`): where a test must see a step in progress, it holds the step there, looks,
 * and releases it, instead of racing a timed rest (which a busy machine makes it lose).
 *
 *   const hold = holdAt(sim, 'restore-after-file:3');            // the process blocks there
 *   const hold = holdAt(sim, 'restore-after-file:3', 'stall');   // only the work waits: the
 *                                                                // heartbeat goes on, signals are handled
 *   const driver = spawnCli(args, { env: hold.env });
 *   await hold.reached(driver);   // it is there now, and stays there
 *   ...                           // look at it: status, watch, a signal
 *   hold.release();
 *
 * The hold file lives in the fixture's folder: disposing of the fixture releases a process the
 * test left held.
 */
export interface Hold {
  /** The environment that makes a process hold there (give it to every process that may reach it). */
  env: Record<string, string>;
  /**
   * Resolves with the pid of the process held there; rejects if `by` (when given) ends
   * without getting there, with its output.
   */
  reached(by?: SpawnedCli): Promise<number>;
  /** Whether a process is held there now. */
  held(): boolean;
  /** Lets it go on (nothing if none is held). */
  release(): void;
}

let holds = 0;

export function holdAt(sim: { dir: string }, point: string, how: 'block' | 'stall' = 'block'): Hold {
  holds += 1;
  const file = path.join(sim.dir, `hold-${holds}-${point.replace(/[^\w-]+/g, '-')}`);
  const pidOf = (): number | null => {
    try {
      const text = fs.readFileSync(file, 'utf8');
      return text.endsWith('\n') ? Number(text) : null; // written whole, not half
    } catch {
      return null;
    }
  };
  return {
    env: { [how === 'block' ? 'KMS_RECOVER_DELAY_AT' : 'KMS_RECOVER_STALL_AT']: `${point}@${file}` },
    async reached(by) {
      await until(`a kms-recover process to reach ${point}`, () => pidOf() !== null || by?.output().code != null || by?.output().signal != null);
      const pid = pidOf();
      if (pid !== null) return pid;
      const result = await by!.done;
      throw new Error(`the process ended (exit ${result.code ?? result.signal}) before it reached ${point}:\n${result.stdout}${result.stderr}`);
    },
    held: () => pidOf() !== null,
    release: () => fs.rmSync(file, { force: true }),
  };
}

/**
 * Processes racing for one run or one server, each given `hold.env`: the one that wins holds at
 * the hold's point, past the moment the others meet it, until all the others have ended (refused,
 * presumably: the test checks); then it is released. Resolves with every result, in order. If
 * none gets there, nothing is held: the results say what happened.
 */
export async function winnerHeldWhileOthersEnd(hold: Hold, racers: Promise<CliResult>[]): Promise<CliResult[]> {
  const ended = racers.map(() => false);
  racers.forEach((racer, i) => { void racer.finally(() => { ended[i] = true; }); });
  const othersEnded = () => ended.filter((e) => !e).length <= 1;
  await until('one process held and the others ended', () => (hold.held() && othersEnded()) || ended.every(Boolean));
  hold.release();
  return Promise.all(racers);
}
