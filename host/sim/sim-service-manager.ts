import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import type { ChangeGuard, ServiceControl, ServiceStatus } from '../types.js';
import { daemonEntryPath } from './daemon-entry.js';
import { KMS_DATABASE_FILE, simPaths, type SimPaths } from './sim-layout.js';
import { findDaemonPids, hasProcFs, isDaemonAlive, openFilesUnder, sleep } from './sim-proc.js';
import {
  findServiceKey, readServicesFile, SIM_DATA_FOLDER, writeServicesFile, type SimServiceRecord, type SimServicesFile,
} from './sim-state.js';
import { KMS_SERVICE_NAME } from '../../domain/index.js';

export interface SimServiceManagerOptions {
  /** How long a started daemon may take to report (default 15 s). */
  startTimeoutMs?: number;
  /** How long a stopping daemon may take after SIGTERM before the stop fails (default 10 s). */
  stopTimeoutMs?: number;
}

const POLL_MS = 50;
/** After SIGKILL, how long to wait for the process to go before giving up. */
const KILL_GRACE_MS = 3000;

type DaemonReply =
  | { kind: 'line'; line: string }
  | { kind: 'closed'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'error'; error: Error }
  | { kind: 'timeout' }
  | { kind: 'aborted' };

function serviceMissing(name: string): KmsRecoverError {
  return new KmsRecoverError('SERVICE_MISSING', `the service ${name} is not installed on this host`, { service: name });
}

function toStatus(name: string, record: SimServiceRecord): ServiceStatus {
  const status: ServiceStatus = { name, state: record.state, startType: record.startType };
  if (record.state === 'running' && record.pid !== null) status.pid = record.pid;
  return status;
}

function sameRecord(a: SimServiceRecord, b: SimServiceRecord): boolean {
  return a.state === b.state && a.pid === b.pid && a.startedAt === b.startedAt;
}

/**
 * The simulated Windows service manager of a simulated host. Its state lives in
 * `<root>/scm/services.json` (so it survives the CLI process); the truth about a service is the
 * process table: a recorded pid that is gone means the service died, and a daemon serving this
 * host's Kmsdata that the state file does not know (its starter died before recording it) is
 * adopted, as the real service manager, which never dies, would know it.
 */
export class SimServiceManager implements ServiceControl {
  readonly paths: SimPaths;
  private readonly startTimeoutMs: number;
  private readonly stopTimeoutMs: number;

  constructor(root: string, options: SimServiceManagerOptions = {}) {
    this.paths = simPaths(root);
    this.startTimeoutMs = options.startTimeoutMs ?? 15_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  }

  /** The service's state as the process table says it; a query writes nothing (a driver that lost its lease may still ask). */
  async queryService(name: string): Promise<ServiceStatus> {
    const state = await readServicesFile(this.paths.servicesFile);
    const key = findServiceKey(state, name);
    if (key === undefined) return { name, state: 'missing' };
    return toStatus(key, await this.reconcile(key));
  }

  async serviceKmsdata(name: string): Promise<string> {
    const state = await readServicesFile(this.paths.servicesFile);
    const key = findServiceKey(state, name);
    if (key === undefined) throw serviceMissing(name);
    return this.dataFolderOf(state.services[key]!);
  }

  /** The record's data folder, absolute (relative ones lie under the simulated host's root). */
  private dataFolderOf(record: SimServiceRecord): string {
    return path.resolve(this.paths.root, record.dataFolder ?? SIM_DATA_FOLDER);
  }

  /** The KMS's data folder as the service manager records it: where its daemon is started, and found. */
  private async kmsDataFolder(): Promise<string> {
    const state = await readServicesFile(this.paths.servicesFile);
    const key = findServiceKey(state, KMS_SERVICE_NAME);
    return key === undefined ? this.paths.kmsdata : this.dataFolderOf(state.services[key]!);
  }

  /**
   * Stops the service and waits until its processes are gone. The wait ends at the guard's signal
   * (the step's time limit, Ctrl-C, a lost lease), and the guard is asked again before the service
   * is signalled and before its state is written: a driver that lost its lease while it waited
   * (paused, taken over, woken up) writes nothing.
   */
  async stopService(name: string, guard: ChangeGuard): Promise<ServiceStatus> {
    guard.signal?.throwIfAborted();
    const key = await this.requireService(name);
    const record = await this.reconcile(key);
    const pids = new Set<number>(await findDaemonPids(this.dataFolderOf(record)));
    if (record.state === 'running' && record.pid !== null) pids.add(record.pid);
    guard.signal?.throwIfAborted();
    guard.assertMayAct?.();
    // Stopped already (a dead daemon included): the state file is brought in line, nothing else.
    if (pids.size === 0) return toStatus(key, await this.record(key, { state: 'stopped', pid: null, startedAt: null }));
    for (const pid of pids) signal(pid, 'SIGTERM');
    // As Windows' service control manager, never kill a service that does not stop: say so.
    const alive = await waitDead([...pids], this.paths.daemonLog, this.stopTimeoutMs, guard.signal);
    if (alive.length) {
      throw new KmsRecoverError('SERVICE_STOP_FAILED',
        `the service ${key} did not stop within ${Math.round(this.stopTimeoutMs / 100) / 10} s: process ${alive.join(', ')} hangs while stopping; end it, then run kms-recover resume`,
        { service: key, pids: alive });
    }
    guard.signal?.throwIfAborted();
    guard.assertMayAct?.();
    return toStatus(key, await this.record(key, { state: 'stopped', pid: null, startedAt: null }));
  }

  async startService(name: string, startParameters: readonly string[], guard: ChangeGuard): Promise<ServiceStatus> {
    guard.signal?.throwIfAborted();
    const key = await this.requireService(name);
    const record = await this.reconcile(key);
    if (record.state === 'running') return toStatus(key, record);
    if (record.startType === 'disabled') {
      throw new KmsRecoverError('SERVICE_START_FAILED', `the service ${key} is disabled`, { service: key });
    }
    const alpha = startParameters[0];
    if (!alpha) {
      throw new KmsRecoverError('SERVICE_START_FAILED', 'the KMS needs its alpha string as start parameter', { service: key });
    }

    guard.assertMayAct?.();
    const daemon = daemonEntryPath();
    const kmsdata = this.dataFolderOf(record);
    // An explicit environment: the daemon is handed nothing of ours (no alpha string variable,
    // no NODE_OPTIONS), only what finding programs needs. The alpha string goes on its stdin.
    const env = { PATH: process.env.PATH ?? '' };
    guard.signal?.throwIfAborted();
    const child = spawn(process.execPath, [daemon, '--kmsdata', kmsdata, '--log', this.paths.daemonLog], {
      detached: true,
      stdio: ['pipe', 'pipe', 'ignore'],
      cwd: this.paths.scm,
      env,
    });
    child.stdin.on('error', () => undefined); // the daemon may be gone before it read a byte
    child.stdout.on('error', () => undefined);
    child.stdin.end(`${alpha}\n`);
    // As the service control manager reports a failed start only once the service's process has
    // stopped, a refused start returns after the daemon exited (it held kmsdata.edb open).
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

    let buffer = '';
    const firstLine = (): string | undefined => {
      const newline = buffer.indexOf('\n');
      return newline >= 0 ? buffer.slice(0, newline) : undefined;
    };
    let reply = await new Promise<DaemonReply>((resolve) => {
      let settled = false;
      const settle = (value: DaemonReply): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => settle({ kind: 'timeout' }), this.startTimeoutMs);
      // The wait ends at the guard's signal too (the step's time limit, Ctrl-C, a lost lease).
      const aborted = () => settle({ kind: 'aborted' });
      if (guard.signal?.aborted) aborted();
      guard.signal?.addEventListener('abort', aborted, { once: true });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        buffer += chunk;
        const line = firstLine();
        if (line !== undefined) settle({ kind: 'line', line });
      });
      child.on('error', (error) => settle({ kind: 'error', error }));
      child.on('close', (code, sig) => settle({ kind: 'closed', code, signal: sig }));
    });

    const detail = { service: key, kmsdata };
    if (reply.kind === 'aborted') {
      child.stdout.destroy();
      child.unref();
      // Not recorded: the daemon, if it comes up, is adopted by the next look (reconcile).
      throw guard.signal?.reason ?? new KmsRecoverError('SERVICE_START_FAILED', `the start of ${key} was called off`, detail);
    }
    if (reply.kind === 'timeout') {
      signal(child.pid, 'SIGKILL');
      // The deadline and the daemon's answer can fall due in the same turn of this process's event
      // loop (a manager that did not get the CPU for a while), and timers are served before
      // input: what the daemon said before it was killed is still its answer. A refusal is kept;
      // a late "running" is not (the daemon is killed: the start timed out).
      await Promise.race([exited, sleep(KILL_GRACE_MS)]);
      const late = firstLine();
      if (late !== undefined && !/"ok"\s*:\s*true/.test(late)) reply = { kind: 'line', line: late };
    }
    child.stdout.destroy();
    child.unref();
    if (reply.kind === 'timeout' || reply.kind === 'closed') {
      // A daemon that refused its start wrote why to its state file before it said so on stdout.
      const refused = await readRefusal(this.paths.daemonState, child.pid);
      if (refused) throw new KmsRecoverError(refused.code, refused.message, detail);
    }
    if (reply.kind === 'timeout') {
      throw new KmsRecoverError('SERVICE_START_FAILED',
        `the service ${key} did not report running within ${Math.round(this.startTimeoutMs / 1000)} s`, detail);
    }
    if (reply.kind === 'error') {
      throw new KmsRecoverError('SERVICE_START_FAILED', `the service ${key} could not be started: ${reply.error.message}`,
        detail, { cause: reply.error });
    }
    if (reply.kind === 'closed') {
      throw new KmsRecoverError('SERVICE_START_FAILED',
        `the service ${key} exited during start (${reply.code ?? reply.signal}) without reporting`, detail);
    }

    let parsed: { ok?: unknown; pid?: unknown; code?: unknown; message?: unknown };
    try {
      parsed = JSON.parse(reply.line) as typeof parsed;
    } catch {
      signal(child.pid, 'SIGKILL');
      throw new KmsRecoverError('SERVICE_START_FAILED', `the service ${key} reported something unreadable during start`, detail);
    }
    if (parsed.ok === true && typeof parsed.pid === 'number' && parsed.pid === child.pid) {
      guard.assertMayAct?.();
      const running = await this.record(key, { state: 'running', pid: parsed.pid, startedAt: new Date().toISOString() });
      return toStatus(key, running);
    }
    if (parsed.ok === true) {
      signal(child.pid, 'SIGKILL');
      throw new KmsRecoverError('SERVICE_START_FAILED', `the service ${key} reported a wrong process id`, detail);
    }
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => { waited = setTimeout(resolve, this.startTimeoutMs); })]);
    clearTimeout(waited);
    const code = parsed.code === 'ALPHA_REJECTED' ? 'ALPHA_REJECTED' : 'SERVICE_START_FAILED';
    const message = typeof parsed.message === 'string' && parsed.message
      ? parsed.message
      : `the service ${key} did not start`;
    throw new KmsRecoverError(code, message, detail);
  }

  /**
   * Files under `dir` that a running simulator daemon of this host holds open: what Windows
   * would refuse to delete or overwrite with a sharing violation. Read from /proc/<pid>/fd;
   * without /proc, `kmsdata.edb` counts as held while a daemon is alive.
   */
  async lockedFiles(dir: string): Promise<string[]> {
    const pids = await this.livePids();
    if (pids.length === 0) return [];
    if (!hasProcFs()) {
      const db = path.join(path.resolve(dir), KMS_DATABASE_FILE);
      return existsSync(db) ? [db] : [];
    }
    const files = new Set<string>();
    for (const pid of pids) for (const file of await openFilesUnder(pid, dir)) files.add(file);
    return [...files].sort();
  }

  /**
   * Power loss: SIGKILL every daemon of this host (no clean shutdown) and record every service
   * as stopped. Returns the pid of the KMS daemon that was killed, if one ran.
   */
  async killAll(): Promise<number | null> {
    const state = await readServicesFile(this.paths.servicesFile);
    const pids = await this.livePids(state);
    for (const pid of pids) signal(pid, 'SIGKILL');
    const alive = await waitDead(pids, this.paths.daemonLog, KILL_GRACE_MS);
    if (alive.length) {
      throw new KmsRecoverError('SERVICE_STOP_FAILED', `process ${alive.join(', ')} survived SIGKILL`, { pids: alive });
    }
    for (const key of Object.keys(state.services)) {
      await this.record(key, { state: 'stopped', pid: null, startedAt: null });
    }
    return pids[0] ?? null;
  }

  // -- internals ---------------------------------------------------------------------------

  private async requireService(name: string): Promise<string> {
    const key = findServiceKey(await readServicesFile(this.paths.servicesFile), name);
    if (key === undefined) throw serviceMissing(name);
    return key;
  }

  /** Recorded live pids first, then any other daemon serving this host's Kmsdata. */
  private async livePids(state?: SimServicesFile): Promise<number[]> {
    const current = state ?? await readServicesFile(this.paths.servicesFile);
    const pids: number[] = [];
    for (const record of Object.values(current.services)) {
      if (record.state === 'running' && record.pid !== null && await isDaemonAlive(record.pid, this.paths.daemonLog)) pids.push(record.pid);
    }
    for (const pid of await findDaemonPids(await this.kmsDataFolder())) if (!pids.includes(pid)) pids.push(pid);
    return pids;
  }

  /** A daemon of this host that is running: alive and holding the KMS database open. */
  private async servingDaemon(): Promise<number | undefined> {
    const kmsdata = await this.kmsDataFolder();
    const db = path.join(kmsdata, KMS_DATABASE_FILE);
    for (const pid of await findDaemonPids(kmsdata)) {
      if ((await openFilesUnder(pid, kmsdata)).includes(db)) return pid;
    }
    return undefined;
  }

  /**
   * The state of `key` as the process table says it, without writing it: only a stop or start,
   * once its guard allows, writes the state file (a dead daemon, an orphan adopted, are derived
   * again by every look until then).
   */
  private async reconcile(key: string): Promise<SimServiceRecord> {
    const state = await readServicesFile(this.paths.servicesFile);
    const record = state.services[key];
    if (!record) throw serviceMissing(key);
    if (record.state === 'running' && record.pid !== null && await isDaemonAlive(record.pid, this.paths.daemonLog)) return record;
    const orphan = await this.servingDaemon();
    if (orphan !== undefined) return { ...record, state: 'running', pid: orphan, startedAt: record.startedAt ?? new Date().toISOString() };
    if (record.state === 'running') return { ...record, state: 'stopped', pid: null, startedAt: null };
    return record;
  }

  /** Re-read the state file, change one service, write it atomically. */
  private async record(key: string, change: Pick<SimServiceRecord, 'state' | 'pid' | 'startedAt'>): Promise<SimServiceRecord> {
    const state = await readServicesFile(this.paths.servicesFile);
    const record = state.services[key];
    if (!record) throw serviceMissing(key);
    const next: SimServiceRecord = { ...record, ...change };
    if (!sameRecord(record, next)) {
      state.services[key] = next;
      await writeServicesFile(this.paths.servicesFile, state);
    }
    return next;
  }
}

/**
 * The refusal daemon `pid` wrote to its state file (kms-daemon.ts `fail`) before it reported it
 * and exited; undefined when that file holds another process's report, or none.
 */
async function readRefusal(file: string, pid: number | undefined): Promise<{ code: 'ALPHA_REJECTED' | 'SERVICE_START_FAILED'; message: string } | undefined> {
  let state: unknown;
  try {
    state = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (pid === undefined || !isRecord(state) || state.pid !== pid || !isRecord(state.refused)) return undefined;
  const { code, message } = state.refused;
  if (typeof message !== 'string' || !message) return undefined;
  return { code: code === 'ALPHA_REJECTED' ? 'ALPHA_REJECTED' : 'SERVICE_START_FAILED', message };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already (ESRCH), or not ours (EPERM): waitDead tells which.
  }
}

/** Poll until every daemon (of the host whose daemon log is `log`) among `pids` is gone; returns those still alive after `timeoutMs`. */
async function waitDead(pids: readonly number[], log: string, timeoutMs: number, abort?: AbortSignal): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = [...pids];
  for (;;) {
    abort?.throwIfAborted();
    const still: number[] = [];
    for (const pid of alive) if (await isDaemonAlive(pid, log)) still.push(pid);
    alive = still;
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await sleep(POLL_MS);
  }
}
