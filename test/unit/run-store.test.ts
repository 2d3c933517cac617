import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import { KmsRecoverError } from '../../errors/index.js';
import type { Manifest } from '../../host/types.js';
import { MACHINE_VERSION, positionOf, recoveryMachine, type RestoreFacts, type ServiceFacts } from '../../machines/index.js';
import { APPLICATION_ID, FencedRun, openDatabase, RunLeases, RunStore, SCHEMA_VERSION, type Db } from '../../persistence/index.js';
import { MIGRATIONS } from '../../persistence/migrations.js';

const manifest: Manifest = {
  files: [{ path: 'a.edb', size: 3, sha256: 'a'.repeat(64) }, { path: 'certs/ca.cer', size: 2, sha256: 'b'.repeat(64) }],
  dirs: ['certs'], fileCount: 2, totalBytes: 5, digest: 'd'.repeat(64),
};
const input = {
  serviceName: 'MSExchangeKMS', kmsdata: '/x/Exchsrvr/Kmsdata', backup: '/b/Kmsdata',
  backupManifest: { fileCount: 2, totalBytes: 5, digest: 'd'.repeat(64) }, kmsdataIdentity: null, manual: [],
};

let dir: string;
let file: string;
let db: Db;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-store-'));
  file = path.join(dir, 'runs.db');
  db = openDatabase(file).db;
});
afterEach(() => {
  if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function createRun(store: RunStore, id = 'r1') {
  const snapshot = createActor(recoveryMachine, { input }).getPersistedSnapshot();
  store.createRun({ claim: { claim: 'Exchsrvr/kms-recover.claim', recoveredBefore: null }, params: { serviceName: 'MSExchangeKMS', kmsdata: 'D:\\exchsrvr\\Kmsdata', backup: 'E:\\backup\\Kmsdata' }, id, host: 'h', machineVersion: MACHINE_VERSION, definitionHash: 'x', adapter: 'sim', adapterConfig: {},
    state: 'reinstalled', phase: 'working', snapshot, manifest, serverKey: `/srv/${id}/Exchsrvr/Kmsdata` });
  return snapshot;
}

describe('database', () => {
  it('is created in WAL mode with the current schema version', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  });

  it('refuses a file that is not SQLite, and leaves it as it was', () => {
    db.close();
    const junk = path.join(dir, 'junk.db');
    fs.writeFileSync(junk, 'this is not a database, just some text that is long enough');
    const before = fs.readFileSync(junk);
    expect(() => openDatabase(junk)).toThrow(expect.objectContaining({ code: 'DB_FOREIGN' }));
    expect(fs.readFileSync(junk)).toEqual(before);
  });

  it('refuses an SQLite database of another program', () => {
    db.close();
    const other = path.join(dir, 'other.db');
    const foreign = new Database(other);
    foreign.exec('CREATE TABLE people (name TEXT)');
    foreign.close();
    expect(() => openDatabase(other)).toThrow(expect.objectContaining({ code: 'DB_FOREIGN' }));
  });

  it('refuses a database from a newer schema', () => {
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openDatabase(file)).toThrow(expect.objectContaining({ code: 'DB_TOO_NEW' }));
  });

  it('upgrades a schema v1 database in place, keeping its runs', () => {
    db.close();
    const old = path.join(dir, 'v1.db');
    const v1 = new Database(old);
    v1.exec(MIGRATIONS[0]!);
    v1.pragma('user_version = 1');
    v1.pragma(`application_id = ${APPLICATION_ID}`);
    // A run as definition v1 stored it (test/fixtures/definition-v1: a real v1 snapshot).
    const v1Run = JSON.parse(fs.readFileSync(new URL('../fixtures/definition-v1/snapshot-cleared.json', import.meta.url), 'utf8')) as { snapshot: unknown };
    v1.prepare(`INSERT INTO runs (id, host, machine_version, definition_hash, adapter, adapter_config, state, phase, snapshot, created_at, updated_at)
      VALUES ('old1', 'h', 1, 'x', 'sim', '{}', 'cleared', 'working', ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`).run(JSON.stringify(v1Run.snapshot));
    v1.close();
    const opened = openDatabase(old);
    db = opened.db;
    expect(opened.migration).toEqual({ fromVersion: 1, toVersion: SCHEMA_VERSION, applied: SCHEMA_VERSION - 1 });
    const run = new RunStore(db).getRun('old1');
    expect(run).toMatchObject({ state: 'cleared', options: {}, context: { serviceName: 'MSExchangeKMS', kmsdata: '/srv/Exchsrvr/Kmsdata', backup: '/backup/Kmsdata' } });
    expect(new RunStore(db).timer('old1')).toBeNull();
  });

  it('upgrades a schema v5 database to typed records: parameters and read-back facts as columns, attempts as rows, a v4 manual step as waiting', () => {
    db.close();
    const old = path.join(dir, 'v5.db');
    const v5 = new Database(old);
    for (const migration of MIGRATIONS.slice(0, 5)) v5.exec(migration);
    v5.pragma('user_version = 5');
    v5.pragma(`application_id = ${APPLICATION_ID}`);
    // The row and events the v4 release stored for a run waiting at a manual clear (test/fixtures/definition-v4).
    const v4 = JSON.parse(fs.readFileSync(new URL('../fixtures/definition-v4/snapshot-waiting-clear.json', import.meta.url), 'utf8')) as { snapshot: unknown; options: unknown };
    v5.prepare(`INSERT INTO runs (id, host, machine_version, definition_hash, adapter, adapter_config, state, phase, snapshot, options, created_at, updated_at, server_key)
      VALUES ('old4', 'h', 4, '8de969ede0eb9142', 'sim', '{}', 'stopped', 'failed', ?, ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:09.000Z', 'k')`)
      .run(JSON.stringify(v4.snapshot), JSON.stringify(v4.options));
    const event = v5.prepare('INSERT INTO events (run_id, seq, event, from_state, to_state, at, detail) VALUES (\'old4\', ?, ?, ?, ?, ?, ?)');
    const at = (s: number) => `2026-01-01T00:00:0${s}.000Z`;
    event.run(1, 'run.created', null, 'reinstalled', at(1), JSON.stringify({ backupDigest: 'd' }));
    event.run(2, 'claim.taken', 'reinstalled', 'reinstalled', at(2), JSON.stringify({ claim: 'c', recoveredBefore: 'older01' }));
    event.run(3, 'step.started', 'reinstalled', 'reinstalled', at(3), JSON.stringify({ step: 'stopService', attempt: 1, deadlineAt: at(9) }));
    event.run(4, 'xstate.error.actor.stopService', 'reinstalled', 'reinstalled', at(4), JSON.stringify({ phase: 'failed' }));
    event.run(5, 'step.started', 'reinstalled', 'reinstalled', at(5), JSON.stringify({ step: 'stopService', attempt: 2 }));
    event.run(6, 'xstate.done.actor.stopService', 'reinstalled', 'stopped', at(6), JSON.stringify({ phase: 'working' }));
    event.run(7, 'step.started', 'stopped', 'stopped', at(7), JSON.stringify({ step: 'clearKmsdata', attempt: 1 }));
    event.run(8, 'restore.promoting', 'stopped', 'stopped', at(8), JSON.stringify({ identity: { dev: '64', ino: '77' } }));
    v5.close();

    db = openDatabase(old).db;
    const store = new RunStore(db);
    const run = store.getRun('old4');
    expect(run).toMatchObject({
      phase: 'waiting',
      params: { serviceName: 'MSExchangeKMS', kmsdata: '/tmp/fx/server/Exchsrvr/Kmsdata', backupManifest: { fileCount: 8 } },
      claimTaken: { at: at(2), recoveredBefore: 'older01' },
    });
    expect(store.attempts('old4', 'stopService')).toBe(2);
    expect(store.attempts('old4', 'clearKmsdata')).toBe(1);
    expect(store.attemptRecords('old4')).toEqual([
      { step: 'stopService', attempt: 1, startedAt: at(3), deadlineAt: at(9), endedAt: at(4), outcome: 'error' },
      { step: 'stopService', attempt: 2, startedAt: at(5), deadlineAt: null, endedAt: at(6), outcome: 'done' },
      { step: 'clearKmsdata', attempt: 1, startedAt: at(7), deadlineAt: null, endedAt: null, outcome: null },
    ]);
    expect(store.promotingIdentity('old4')).toEqual({ dev: '64', ino: '77' });
    expect(store.startRequestedAt('old4')).toBeNull();
    expect(store.manifest('old4').digest).toBe((v4.snapshot as { context: { backupManifest: { digest: string } } }).context.backupManifest.digest);
  });

  it('refuses to create a database for a read-only command', () => {
    expect(() => openDatabase(path.join(dir, 'none.db'), { mustExist: true })).toThrow(expect.objectContaining({ code: 'RUN_NOT_FOUND' }));
    expect(fs.existsSync(path.join(dir, 'none.db'))).toBe(false);
  });
});

describe('run store', () => {
  it('reopening the database restores the exact actor state', async () => {
    const store = new RunStore(db);
    createRun(store);
    const machine = recoveryMachine.provide({
      actors: {
        stopService: fromPromise(async (): Promise<ServiceFacts> => ({ serviceState: 'stopped' })),
        clearKmsdata: fromPromise(async () => ({ removed: 1, remaining: 0 })),
        restoreKmsdata: fromPromise(() => new Promise<RestoreFacts>(() => {})), // stays in flight
      },
    });
    const actor = createActor(machine, { snapshot: store.getRun('r1').snapshot as never, input: undefined as never });
    actor.subscribe((s) => {
      const p = positionOf(s.value);
      new FencedRun(store, 'r1', 0).checkpoint({ snapshot: actor.getPersistedSnapshot(), state: p.state, phase: p.phase, event: 'test' });
    });
    actor.start();
    await waitFor(actor, (s) => positionOf(s.value).state === 'cleared');
    const expected = actor.getPersistedSnapshot();
    actor.stop();
    db.close();

    db = openDatabase(file).db;
    const reopened = new RunStore(db).getRun('r1');
    expect(reopened.snapshot).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(reopened.state).toBe('cleared');
    const restored = createActor(recoveryMachine, { snapshot: reopened.snapshot as never, input: undefined as never });
    expect(restored.getSnapshot().value).toEqual({ cleared: 'working' });
    expect(restored.getSnapshot().context.facts.cleared).toEqual({ removed: 1, remaining: 0 });
  });

  it('keeps a gap-free, append-only event log with from and to states', () => {
    const store = new RunStore(db);
    createRun(store);
    new FencedRun(store, 'r1', 0).beginStep('reinstalled', 'stopService');
    new FencedRun(store, 'r1', 0).checkpoint({ snapshot: {}, state: 'stopped', phase: 'working', event: 'done' });
    new FencedRun(store, 'r1', 0).beginStep('stopped', 'clearKmsdata');
    const events = store.events('r1');
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(events.map((e) => [e.event, e.from, e.to])).toEqual([
      ['run.created', null, 'reinstalled'], ['claim.taken', 'reinstalled', 'reinstalled'], ['step.started', 'reinstalled', 'reinstalled'],
      ['done', 'reinstalled', 'stopped'], ['step.started', 'stopped', 'stopped'],
    ]);
    expect(() => db.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE events SET event = 'x'").run()).toThrow(/append-only/);
  });

  it('counts attempts and refuses a step that runs ahead of its checkpoint', () => {
    const store = new RunStore(db);
    createRun(store);
    expect(new FencedRun(store, 'r1', 0).beginStep('reinstalled', 'stopService')).toBe(1);
    expect(new FencedRun(store, 'r1', 0).beginStep('reinstalled', 'stopService')).toBe(2);
    expect(() => new FencedRun(store, 'r1', 0).beginStep('stopped', 'clearKmsdata')).toThrow(KmsRecoverError);
  });

  it('gives back the manifest stored before any change', () => {
    const store = new RunStore(db);
    createRun(store);
    expect(store.manifest('r1')).toEqual(manifest);
  });

  it('finds runs by unique prefix and says clearly when none matches', () => {
    const store = new RunStore(db);
    createRun(store, 'abc12345');
    createRun(store, 'abd00000');
    expect(store.getRun('abc').id).toBe('abc12345');
    expect(() => store.getRun('ab')).toThrow(/ambiguous/);
    expect(() => store.getRun('zzz')).toThrow(expect.objectContaining({ code: 'RUN_NOT_FOUND' }));
  });

  it('redacts secret-looking keys in event details', () => {
    const store = new RunStore(db);
    createRun(store);
    new FencedRun(store, 'r1', 0).note('claim.lost', { alpha: 'ABCDEFGHIJKLMN', nested: { startParameters: ['x'] }, ok: 1 });
    const detail = store.events('r1').at(-1)!.detail!;
    expect(detail).toEqual({ alpha: '[redacted]', nested: { startParameters: '[redacted]' }, ok: 1 });
  });
});

describe('run leases', () => {
  it('refuses a second live driver and takes over from a dead one', () => {
    const store = new RunStore(db);
    createRun(store);
    const leases = new RunLeases(db);
    const first = leases.acquire('r1', { host: 'h', pid: 100, processStart: 'b:1' }, () => true);
    expect(() => leases.acquire('r1', { host: 'h', pid: 200, processStart: 'b:2' }, () => true))
      .toThrow(/run r1 is being driven by pid 100 on h since /);
    const taken = leases.acquire('r1', { host: 'h', pid: 200, processStart: 'b:2' }, () => false);
    expect(taken.tookOverFrom?.pid).toBe(100);
    expect(taken.token).toBeGreaterThan(first.token);
    expect(leases.holder('r1')?.pid).toBe(200);
    leases.release('r1', taken.token);
    expect(leases.holder('r1')).toBeNull();
  });

  it('closing a run releases its lease in the same transaction: a driver killed right after the close leaves no lease on a finished run', () => {
    const store = new RunStore(db);
    createRun(store);
    const leases = new RunLeases(db);
    const lease = leases.acquire('r1', { host: 'h', pid: 100, processStart: null }, () => true);
    new FencedRun(store, 'r1', lease.token).close({ abandoned: false, event: 'run.finished', detail: {} });
    expect(leases.holder('r1')).toBeNull();
  });

  it('fences every write: a driver whose lease was taken over writes nothing more (LEASE_LOST)', () => {
    const store = new RunStore(db);
    createRun(store);
    const leases = new RunLeases(db);
    const old = leases.acquire('r1', { host: 'a', pid: 100, processStart: null }, () => true);
    const stale = new FencedRun(store, 'r1', old.token);
    stale.beginStep('reinstalled', 'stopService');
    // Takeover by the operator raises the generation at once, before anyone acquires the run.
    expect(leases.breakLease('r1', leases.holder('r1')!)).toBe(old.token + 1);
    const before = store.events('r1').length;
    for (const write of [
      () => stale.checkpoint({ snapshot: {}, state: 'stopped', phase: 'working', event: 'x' }),
      () => stale.beginStep('reinstalled', 'stopService'),
      () => stale.note('drift.service-running', { step: 'clearKmsdata', service: 'MSExchangeKMS', serviceState: 'running' }),
      () => stale.scheduleRetry('stopService', 2, new Date().toISOString(), {}),
      () => stale.updateOptions({}, {}),
      () => stale.close({ abandoned: true, event: 'run.abandoned', detail: {} }),
      () => stale.assertCurrent(),
    ]) {
      expect(write).toThrow(expect.objectContaining({ code: 'LEASE_LOST' }));
    }
    expect(store.events('r1')).toHaveLength(before);
    expect(leases.heartbeat('r1', old.token)).toBe(false);
    const fresh = leases.acquire('r1', { host: 'b', pid: 200, processStart: null }, () => false);
    expect(fresh.token).toBe(old.token + 2);
    expect(() => stale.note('claim.renewed', { claim: 'c' })).toThrow(/taken over by pid 200 on b/);
    new FencedRun(store, 'r1', fresh.token).note('claim.renewed', { claim: 'c' });
  });

  it('checks the fence inside each write\'s own statement: a stale token changes no row, in the same words as the read check', () => {
    const store = new RunStore(db);
    createRun(store);
    const leases = new RunLeases(db);
    const old = leases.acquire('r1', { host: 'a', pid: 100, processStart: null }, () => true);
    const stale = new FencedRun(store, 'r1', old.token);
    stale.progress({ step: 'restoreKmsdata', attempt: 1, activity: 'copy', filesDone: 1, filesTotal: 2, bytesDone: 1, bytesTotal: 2 });
    leases.breakLease('r1', leases.holder('r1')!);
    const row = () => db.prepare('SELECT * FROM runs WHERE id = ?').get('r1');
    const before = { run: row(), events: store.events('r1').length, progress: store.progress('r1') };
    let words = '';
    try {
      stale.assertCurrent();
    } catch (error) {
      words = (error as Error).message;
    }
    expect(words).toMatch(/run r1 was taken over .*this process held/);
    for (const write of [
      () => stale.checkpoint({ snapshot: { changed: true }, state: 'stopped', phase: 'working', event: 'xstate.done.actor.stopService' }),
      () => stale.progress({ step: 'restoreKmsdata', attempt: 1, activity: 'copy', filesDone: 2, filesTotal: 2, bytesDone: 2, bytesTotal: 2 }),
      () => stale.migrateDefinition({ machineVersion: 99, definitionHash: 'y', snapshot: {}, phase: 'working' }, {}),
      () => stale.recordStartRequested('MSExchangeKMS', new Date().toISOString()),
      () => stale.recordPromoting({ dev: '1', ino: '2' }),
      () => stale.recordQuarantined([{ storedAs: 'a', name: 'a', kind: 'file', size: 1, sha256: null }]),
    ]) {
      expect(write).toThrow(words);
    }
    expect({ run: row(), events: store.events('r1').length, progress: store.progress('r1') }).toEqual(before);
    expect(store.quarantineLedger('r1')).toEqual([]);
    expect(() => new FencedRun(store, 'nope', 0).checkpoint({ snapshot: {}, state: 'stopped', phase: 'working', event: 'x' }))
      .toThrow(expect.objectContaining({ code: 'RUN_NOT_FOUND' }));
  });

  it('records a checkpoint\'s event from the state the run was committed at', () => {
    const store = new RunStore(db);
    createRun(store);
    const { token } = new RunLeases(db).acquire('r1', { host: 'a', pid: 100, processStart: null }, () => true);
    const run = new FencedRun(store, 'r1', token);
    const seq = run.checkpoint({ snapshot: {}, state: 'stopped', phase: 'working', event: 'xstate.done.actor.stopService' });
    const seq2 = run.note('claim.renewed', { claim: 'c' });
    expect(seq2).toBe(seq + 1);
    expect(store.events('r1').slice(-2).map((e) => [e.seq, e.event, e.from, e.to])).toEqual([
      [seq, 'xstate.done.actor.stopService', 'reinstalled', 'stopped'],
      [seq + 1, 'claim.renewed', 'stopped', 'stopped'],
    ]);
  });

  it('allows one open run per server in a database, by the schema', () => {
    const store = new RunStore(db);
    createRun(store, 'r1');
    expect(() => db.prepare("UPDATE runs SET server_key = ? WHERE id = 'r1'").run('/srv/r1/Exchsrvr/Kmsdata')).not.toThrow();
    createRun(store, 'r2');
    expect(() => db.prepare("UPDATE runs SET server_key = '/srv/r1/Exchsrvr/Kmsdata' WHERE id = 'r2'").run()).toThrow(/UNIQUE/);
    new FencedRun(store, 'r1', 0).close({ abandoned: true, event: 'run.abandoned', detail: {} });
    db.prepare("UPDATE runs SET server_key = '/srv/r1/Exchsrvr/Kmsdata' WHERE id = 'r2'").run();
    expect(store.openRunOfServer('/srv/r1/Exchsrvr/Kmsdata')?.id).toBe('r2');
    expect(store.abandonedRunsOfServer('/srv/r1/Exchsrvr/Kmsdata').map((r) => r.id)).toEqual(['r1']);
  });
});
