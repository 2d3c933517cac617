// 1. Checkpoint cost: RunStore.checkpoint() (snapshot + event in one transaction, WAL,
// synchronous=FULL, the fencing token checked inside the event's own INSERT) against a raw
// better-sqlite3 write of the same bytes with the same durability: the raw durable write.
//
// Like with like: the raw row is the tool's run row byte for byte (all its columns, their
// declared types), and a transition changes in it what a checkpoint changes (snapshot, state,
// phase, time); the raw events table has the tool's primary key (run_id, seq) and is WITHOUT
// ROWID as the tool's is. The tool's events table has no other index (its two triggers fire on
// UPDATE and DELETE only), and its indexes on runs cover no column a checkpoint changes, so
// neither side maintains an index the other does not. Both write the same pages per transition
// (the note prints each side's WAL frames per transition). What the raw side does not do is the
// tool's own cost: the fence and the state read from the run's row, the next event number, the
// foreign key check of the event's run, ending the step's open attempt, serialising the
// snapshot and redacting the detail.
//
// Precision: the two sides alternate in short samples (PER_SAMPLE transitions, a few ms), so a
// burst of another process's disk or CPU load falls on both; the median of many short samples
// is steady where a few long ones were not (an A/A run of two raw writers gave 0.96-1.03x with
// 9 samples of 200, 0.998-1.003x with 151 of 20).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { createActor } from 'xstate';
import { recoveryMachine, MACHINE_VERSION } from '../dist/machines/index.js';
import { openDatabase, RunLeases, RunStore } from '../dist/persistence/index.js';
import { interleave, row, table } from './measure.mjs';

const SAMPLES = 151;
const PER_SAMPLE = 20;

/** A persisted snapshot as a run holds it at `restored`: made by the machine, facts of a real run. */
export function realisticSnapshot() {
  const digest = 'c7f1a0d2'.repeat(8);
  const input = {
    serviceName: 'MSExchangeKMS',
    kmsdata: 'C:\\Exchsrvr\\Kmsdata',
    backup: 'E:\\Backup\\2026-11-20\\Kmsdata',
    backupManifest: { fileCount: 1000, totalBytes: 209715200, digest },
    kmsdataIdentity: { dev: '2049', ino: '1835021' },
  };
  const snapshot = createActor(recoveryMachine, { input }).getPersistedSnapshot();
  snapshot.value = { restored: 'working' };
  snapshot.context.facts = {
    stopped: { serviceState: 'stopped' },
    cleared: { removed: 7, remaining: 0, quarantine: 'C:\\Exchsrvr\\Kmsdata.quarantine-5e0c2b91' },
    restored: { fileCount: 1000, totalBytes: 209715200, digest, mismatches: [], alreadyRestored: false },
  };
  return snapshot;
}

export const realisticDetail = () => ({
  phase: 'working',
  facts: { fileCount: 1000, totalBytes: 209715200, digest: 'c7f1a0d2'.repeat(8), mismatches: [], alreadyRestored: false },
});

/**
 * The raw durable write of one transition, the checkpoint's floor: a plain better-sqlite3
 * database with the product's pragmas (WAL, synchronous=FULL), one transaction that updates the
 * snapshot and its time and inserts the event. `transition()` writes one; `close()` ends it.
 * `runRow` (optional): the tool's own row of the run, as `runs` holds it, with its columns'
 * declared types; then the raw row is that row, byte for byte, and each write changes what the
 * checkpoint changes (snapshot, state, phase, time): the same bytes. Without it, a row of the
 * snapshot and its time only.
 */
export function rawDurableWriter(file, { runId, snapshotJson, detailJson, event, runRow }) {
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  // The row's time changes with every write, as the tool's updated_at does: SQLite skips
  // rewriting a row whose bytes did not change, so a snapshot alone, written again unchanged,
  // would be no page write at all.
  raw.exec(`CREATE TABLE ev (run_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL,
      at TEXT NOT NULL, detail TEXT, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;`);
  let writeRow;
  if (runRow) {
    // No index but the key: the tool's indexes on runs cover no column a checkpoint changes.
    raw.exec(`CREATE TABLE snap (${runRow.columns.map((c) => `${c.name} ${c.type}${c.name === 'id' ? ' PRIMARY KEY' : ''}`).join(', ')})`);
    raw.prepare(`INSERT INTO snap VALUES (${runRow.columns.map(() => '?').join(', ')})`).run(...runRow.columns.map((c) => runRow.values[c.name]));
    const set = raw.prepare('UPDATE snap SET snapshot = ?, state = ?, phase = ?, updated_at = ? WHERE id = ?');
    writeRow = (at) => set.run(snapshotJson, 'restored', 'working', at, runId);
  } else {
    raw.exec('CREATE TABLE snap (id TEXT PRIMARY KEY, snapshot TEXT NOT NULL, updated_at TEXT NOT NULL)');
    raw.prepare('INSERT INTO snap VALUES (?, ?, ?)').run(runId, snapshotJson, new Date().toISOString());
    const set = raw.prepare('UPDATE snap SET snapshot = ?, updated_at = ? WHERE id = ?');
    writeRow = (at) => set.run(snapshotJson, at, runId);
  }
  const insertEv = raw.prepare('INSERT INTO ev VALUES (?, ?, ?, ?, ?, ?, ?)');
  let rawSeq = 0;
  const rawTransition = raw.transaction(() => {
    const at = new Date().toISOString();
    writeRow(at);
    rawSeq += 1;
    insertEv.run(runId, rawSeq, event, 'cleared', 'restored', at, detailJson);
  });
  return { transition: () => rawTransition.immediate(), close: () => raw.close() };
}

/**
 * Pages a transition writes: the WAL frames `n` transitions add to a WAL just emptied by a
 * checkpoint (about 700 frames: fewer than the autocheckpoint's 1000, so none is checkpointed meanwhile).
 */
function walFramesPer(file, transition, n = 300) {
  const probe = new Database(file);
  try {
    probe.pragma('wal_checkpoint(TRUNCATE)');
    for (let i = 0; i < n; i += 1) transition();
    return probe.pragma('wal_checkpoint(PASSIVE)')[0].log / n;
  } finally {
    probe.close();
  }
}

export async function bench() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kms-bench-ckpt-'));
  try {
    const snapshot = realisticSnapshot();
    const detail = realisticDetail();
    const event = 'xstate.done.actor.restoreKmsdata';

    // The tool: the product's database and store.
    const { db } = openDatabase(path.join(dir, 'tool.db'));
    const store = new RunStore(db);
    const runId = '5e0c2b91';
    store.createRun({
      id: runId, host: 'KMS01', machineVersion: MACHINE_VERSION, definitionHash: 'f'.repeat(64), adapter: 'sim',
      adapterConfig: { simRoot: 'C:\\' }, state: 'cleared', phase: 'working', snapshot,
      manifest: { files: [], dirs: [], fileCount: 0, totalBytes: 0, digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
      serverKey: 'C:\\Exchsrvr\\Kmsdata', params: { serviceName: 'MSExchangeKMS', kmsdata: 'C:\\Exchsrvr\\Kmsdata', backup: 'D:\\backup\\Kmsdata' }, claim: { claim: 'C:\\Exchsrvr\\kms-recover.claim', recoveredBefore: null },
    });
    // A driver's checkpoints carry its lease's fencing token, checked in the same transaction.
    const { token } = new RunLeases(db).acquire(runId, { host: 'KMS01', pid: process.pid, processStart: null }, () => false);

    // The baseline: same bytes, same pragmas, same disk, one transaction per transition.
    const snapshotJson = JSON.stringify(snapshot);
    const detailJson = JSON.stringify(detail);
    // The raw row is the tool's run row, byte for byte (its other columns too: host, adapter, options, ...).
    const runRow = { columns: db.prepare('SELECT name, type FROM pragma_table_info(\'runs\')').all(), values: db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) };
    const raw = rawDurableWriter(path.join(dir, 'raw.db'), { runId, snapshotJson, detailJson, event, runRow });

    const checkpoint = () => store.checkpoint(runId, { snapshot, state: 'restored', phase: 'working', event, detail }, token);
    const times = await interleave({
      samples: SAMPLES,
      // The first rounds grow each WAL to the size it then keeps (a write that extends a file costs more).
      warmup: 20,
      sides: {
      tool: () => {
        for (let i = 0; i < PER_SAMPLE; i += 1) checkpoint();
      },
      raw: () => {
        for (let i = 0; i < PER_SAMPLE; i += 1) raw.transition();
      },
      },
    });
    const frames = { tool: walFramesPer(path.join(dir, 'tool.db'), checkpoint), raw: walFramesPer(path.join(dir, 'raw.db'), raw.transition) };
    db.close();
    raw.close();
    const perTransition = (list) => list.map((ms) => ms / PER_SAMPLE);
    return table(`1. Checkpoint cost (one transition; ${PER_SAMPLE} per sample, snapshot ${snapshotJson.length} B + detail ${detailJson.length} B)`, [
      row({
        name: 'RunStore.checkpoint() with its fencing token (checked inside the write\'s own statement)', tool: perTransition(times.tool), baseline: perTransition(times.raw),
        baselineName: 'raw durable write: UPDATE the run\'s row (snapshot, state, phase, time) + INSERT event, 1 tx, WAL, synchronous=FULL', target: 1.15,
        note: `pages written per transition (WAL frames): tool ${frames.tool.toFixed(2)}, raw ${frames.raw.toFixed(2)}`,
      }),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log((await bench()).markdown);
