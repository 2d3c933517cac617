import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../helpers/run-cli.js';
import { expectRefusedByClaim, expectServerRecovered } from '../helpers/server-claim.js';
import { runIdOf, startWithDiskArgs } from '../helpers/sim-cli.js';
import { holdAt, winnerHeldWhileOthersEnd } from '../helpers/hold.js';
import { cleanupSimFixtures, simFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * One server, one recovery, when two `start`s race for it (server-claim.test.ts has the rest):
 * exactly one drives, whether the two share a database or each has its own. Its own file, so
 * that its rounds run beside the other claim tests.
 */

describe('one server, one recovery: two starts at once', () => {
  for (const shared of [true, false]) {
    it(`exactly one drives; the other is refused naming it (${shared ? 'one database' : 'two databases'}, 3 rounds)`, async () => {
      for (let round = 0; round < 3; round += 1) {
        const sim = await simFixture();
        const dbs = shared ? [sim.db, sim.db] : [sim.db, path.join(sim.dir, 'other.db')];
        // The driver that gets the server is held at `stopped` until the other has ended: the two certainly overlap.
        const hold = holdAt(sim, 'after-checkpoint:stopped');
        const results = await winnerHeldWhileOthersEnd(hold, dbs.map((db) => runCli(startWithDiskArgs(sim, [], db), { env: hold.env })));
        const codes = results.map((r) => r.code).sort();
        expect(codes, results.map((r) => r.stderr).join('\n')).toEqual([0, 5]);
        const winner = results.findIndex((r) => r.code === 0);
        const loser = results[1 - winner]!;
        const winnerRun = await runIdOf(sim, dbs[winner]);
        expectRefusedByClaim(loser, winnerRun);
        expect(loser.stderr).toMatch(/being driven by pid \d+|kms-recover (resume|abandon|status) /);
        await expectServerRecovered(sim);
        if (!shared) {
          // The loser's database holds no run: either it was never created (list says there is
          // no database) or it is empty; which one depends on where the loser met the claim.
          const other = dbs[1 - winner]!;
          const listed = await runCli(['list', '--json', '--db', other]);
          if (fs.existsSync(other)) {
            expect(listed.code, listed.stderr).toBe(0);
            expect(parseJson<unknown[]>(listed)).toEqual([]);
          } else {
            expect(listed.code, listed.stderr).toBe(7);
            expect(parseJson<{ error: { code: string } }>(listed).error.code).toBe('RUN_NOT_FOUND');
          }
        }
        await cleanupSimFixtures();
      }
    }, cliLimit(3 * 4)); // 3 rounds: two starts, status, list
  }
});
