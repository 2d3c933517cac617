import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { currentProcess } from '../../host/process-identity.js';
import type { LeaseRecord } from '../../persistence/index.js';
import { configureLeaseStaleness, driverOf, heartbeatMoves, livenessOf } from '../../recovery/lease-policy.js';

/*
 * The one liveness rule (recovery/lease-policy.ts), with real processes: this one, a child
 * stopped with SIGSTOP, one that has exited; and a holder on another machine, judged by its
 * heartbeat alone.
 */

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const leaseOf = (holder: { host: string; pid: number; processStart: string | null }, heartbeatAgoMs: number): LeaseRecord => ({
  ...holder, acquiredAt: ago(heartbeatAgoMs + 1000), heartbeatAt: ago(heartbeatAgoMs), generation: 3,
});

afterEach(() => configureLeaseStaleness(undefined));

describe('the liveness rule', () => {
  it('this process: alive with a fresh heartbeat, unresponsive without one, never dead', () => {
    const me = currentProcess();
    expect(livenessOf(leaseOf(me, 1000)).liveness).toBe('alive');
    expect(livenessOf(leaseOf(me, 61_000))).toMatchObject({ liveness: 'unresponsive', seen: true });
    expect(driverOf(leaseOf(me, 61_000)).kind).toBe('silent');
  });

  it('a process stopped with SIGSTOP is unresponsive once its heartbeat is stale; one that exited is dead', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      process.kill(child.pid!, 'SIGSTOP');
      const paused = { ...currentProcess(), pid: child.pid!, processStart: null };
      configureLeaseStaleness('10');
      expect(livenessOf(leaseOf(paused, 11_000)).liveness).toBe('unresponsive');
      expect(livenessOf(leaseOf(paused, 2000)).liveness).toBe('alive');
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    const gone = { ...currentProcess(), pid: child.pid!, processStart: null };
    expect(livenessOf(leaseOf(gone, 1000)).liveness).toBe('dead');
  });

  it('a holder on another machine: alive while its heartbeat is fresh (or from the future), unresponsive after, never dead', () => {
    const other = { host: 'kms-elsewhere', pid: 4242, processStart: null };
    expect(livenessOf(leaseOf(other, 1000)).liveness).toBe('alive');
    expect(livenessOf(leaseOf(other, -7_200_000))).toMatchObject({ liveness: 'alive', silentMs: 0 });
    expect(livenessOf(leaseOf(other, 7_200_000))).toMatchObject({ liveness: 'unresponsive', seen: false });
  });

  it('a heartbeat that moves while watched is alive, whatever its time says', async () => {
    const lease = leaseOf({ host: 'kms-elsewhere', pid: 4242, processStart: null }, 7_200_000);
    expect(await heartbeatMoves(() => ({ ...lease, heartbeatAt: ago(7_199_000) }), lease, 10)).toBe(true);
    expect(await heartbeatMoves(() => lease, lease, 10)).toBe(false);
    expect(await heartbeatMoves(() => null, lease, 10)).toBe(false);
  });
});
