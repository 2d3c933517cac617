import { afterEach, describe, it } from 'vitest';
import { describeEvents, eventsOf, readDb, stateChanges } from '../helpers/event-log.js';
import { holdAt, winnerHeldWhileOthersEnd } from '../helpers/hold.js';
import { cleanupSimFixtures, simFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';
import { expectRecovered, resumeCli, startCli, treeDigest } from './crash-checks.js';

/**
 * Two operators type `kms-recover resume` at the same moment on a run whose driver was killed:
 * exactly one drives it, the other is refused with the lease holder's identity.
 */

// Sequential, so the shared cleanup is safe here.
afterEach(cleanupSimFixtures);

describe('two concurrent resumes of one interrupted run', () => {
  // Repeated: a lost race shows up as a flaky iteration, not as a lucky single pass.
  it.for([1, 2, 3])('one drives the run to running, the other exits 5 (round %i)', { timeout: cliLimit(4) }, async (_round, { expect }) => {
    const sim = await simFixture();
    const backupBefore = treeDigest(sim.backup);
    const killed = await startCli(sim, { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');

    // The winner is held before the restore, holding the lease, until the other has ended.
    const hold = holdAt(sim, 'before-step:restoreKmsdata');
    const results = await winnerHeldWhileOthersEnd(hold, [resumeCli(sim, [], hold.env), resumeCli(sim, [], hold.env)]);
    const report = results.map((r, i) => `resume ${i}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`).join('\n');

    expect(results.map((r) => r.code).sort(), report).toEqual([0, 5]);
    const loser = results.find((r) => r.code === 5)!;
    expect(loser.stderr, report).toMatch(/run \w+ is being driven by pid \d+ on .+ since .+/);
    expect(loser.stderr.trim().split('\n'), 'the refusal is one line').toHaveLength(1);
    const winner = results.find((r) => r.code === 0)!;
    expect(winner.stderr).toMatch(/took the run over from pid \d+/);

    const view = readDb(sim.db)!;
    const events = eventsOf(view, view.runs[0]!.id);
    const toRunning = stateChanges(events).filter((e) => e.to === 'running');
    expect(toRunning, describeEvents(events)).toHaveLength(1);
    expect(events.filter((e) => e.event === 'step.started' && e.detail?.includes('"restoreKmsdata"')), describeEvents(events)).toHaveLength(1);

    await expectRecovered(expect, sim, backupBefore, { takeovers: 1 });
  });
});
