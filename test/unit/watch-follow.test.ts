import { describe, expect, it } from 'vitest';
import { awaitedCommand, Following } from '../../cli/commands/watch.js';
import { currentProcess } from '../../host/process-identity.js';
import type { RecoveryState } from '../../machines/index.js';
import type { EventRecord, LeaseRecord, RunPhase } from '../../persistence/index.js';
import { runStatus } from '../../recovery/run-status.js';
import { runRecord } from '../helpers/run-record.js';

/*
 * When `watch` ends (cli/commands/watch.ts): a closed run at once; a resting run once a driver
 * worked on it since watching began, at its next rest, even when that drive was shorter than a
 * look (its lease was taken again: the fence rose).
 */

const now = Date.now();
const at = (s: number) => new Date(now + s * 1000).toISOString();
const me = currentProcess();
const live: LeaseRecord = { host: me.host, pid: me.pid, processStart: me.processStart, acquiredAt: at(-5), heartbeatAt: at(0), generation: 1 };
const dead: LeaseRecord = { ...live, pid: 2 ** 22 + 17, processStart: 'long ago' };
const events: EventRecord[] = [{ seq: 1, event: 'run.created', from: null, to: 'reinstalled', at: at(-60), detail: null }];

function look(state: RecoveryState, phase: RunPhase, lease: LeaseRecord | null, fence: number, more: { closedAt?: string; manual?: ('startService')[]; events?: EventRecord[] } = {}) {
  const run = { ...runRecord({ state, phase, createdAt: at(-60), updatedAt: at(-1), options: { manual: more.manual ?? [], startupDisk: 'A:\\Kmspwd.ini' } }), fence, closedAt: more.closedAt ?? null };
  return runStatus(run, [...events, ...(more.events ?? [])], lease, null, null, now);
}

const event = (seq: number, name: string): EventRecord => ({ seq, event: name, from: 'cleared', to: 'cleared', at: at(-1), detail: { step: 'restoreKmsdata', attempt: 1 } });

describe('watch follows until the next rest after a drive', () => {
  it('an interrupted run: waits while nobody drives it, follows the resume, ends at its rest', () => {
    const first = look('cleared', 'working', dead, 1);
    expect(first.situation).toBe('interrupted');
    const follow = new Following(first);
    expect(follow.endsAt(first)).toBe(false);
    expect(follow.endsAt(look('cleared', 'working', live, 2))).toBe(false);
    expect(follow.endsAt(look('restored', 'working', live, 2))).toBe(false);
    expect(follow.endsAt(look('running', 'done', null, 2, { closedAt: at(0) }))).toBe(true);
  });

  it('a drive shorter than a look (events recorded, the run rests again) ends it too; a takeover alone does not', () => {
    const follow = new Following(look('cleared', 'working', dead, 1));
    expect(follow.endsAt(look('cleared', 'working', null, 2, { events: [event(2, 'lease.taken-over')] }))).toBe(false);
    expect(follow.endsAt(look('cleared', 'working', null, 3, { events: [event(2, 'lease.taken-over'), event(3, 'step.started')] }))).toBe(true);
  });

  it('a driven run ends at its next rest; a closed one at once', () => {
    const follow = new Following(look('cleared', 'working', live, 1));
    expect(follow.endsAt(look('cleared', 'working', dead, 1))).toBe(true);
    const abandoned = look('stopped', 'abandoned', null, 1, { closedAt: at(0) });
    expect(new Following(abandoned).endsAt(abandoned)).toBe(true);
  });

  it('the command it waits for: the resume as printed, the confirm of a manual step', () => {
    const interrupted = look('cleared', 'working', dead, 1);
    expect(awaitedCommand(interrupted)).toBe(interrupted.resumeCommand);
    const waiting = look('credential-set', 'waiting', null, 1, { manual: ['startService'] });
    expect(waiting.situation).toBe('waiting');
    expect(awaitedCommand(waiting)).toBe(waiting.waitingFor!.command);
    expect(awaitedCommand(look('cleared', 'working', live, 1))).toBeNull();
  });
});
