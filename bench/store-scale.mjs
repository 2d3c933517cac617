// 4. Store scale: `status` (latest run, and a named run) and `list --json | head` on a database
// holding 10,000 runs and 1,000,000 events against the same commands on a database with one run.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '../dist/persistence/index.js';
import { realisticSnapshot } from './checkpoint.mjs';
import { BIN } from './cold-start.mjs';
import { interleave, now, row, run, table } from './measure.mjs';

const SAMPLES = 7;
const RUNS = 10_000;
const EVENTS_PER_RUN = 100;

const STEPS = [
  ['stopService', 'reinstalled', 'stopped', { serviceState: 'stopped' }],
  ['clearKmsdata', 'stopped', 'cleared', { removed: 7, remaining: 0, quarantine: 'C:\\Exchsrvr\\Kmsdata.quarantine-00000000' }],
  ['restoreKmsdata', 'cleared', 'restored', { fileCount: 1000, totalBytes: 209715200, digest: 'c7f1a0d2'.repeat(8), mismatches: [], alreadyRestored: false }],
  ['setCredential', 'restored', 'credential-set', { source: 'startup-disk', length: 14 }],
  ['startService', 'credential-set', 'running', { serviceState: 'running' }],
];

/**
 * Fills a database made by the product's openDatabase (its real schema and indexes) with `runs`
 * runs of EVENTS_PER_RUN events each, as real runs write them: creation, then step.started /
 * step failed / retried / done, lease notes; one big transaction, prepared statements.
 */
export function buildStore(file, runs) {
  const { db } = openDatabase(file);
  const snapshot = realisticSnapshot();
  snapshot.value = 'running';
  snapshot.status = 'done';
  const snapshotJson = JSON.stringify(snapshot);
  // Finished runs are closed (v3 schema); the unfinished ones each recover a server of their own.
  // The run's parameters are columns since schema v6, as start writes them.
  const insertRun = db.prepare(`INSERT INTO runs (id, host, machine_version, definition_hash, adapter, adapter_config, state, phase, snapshot, created_at, updated_at, closed_at, server_key,
      service_name, kmsdata, backup, backup_files, backup_bytes, backup_digest)
    VALUES (?, ?, 1, ?, 'sim', '{"simRoot":"C:\\\\"}', ?, ?, ?, ?, ?, CASE WHEN ? = 'done' THEN ? END, 'C:\\KMS' || ? || '\\Exchsrvr\\Kmsdata',
      'MSExchangeKMS', 'C:\\Exchsrvr\\Kmsdata', 'D:\\backup\\Kmsdata', 1000, 209715200, '${'c7f1a0d2'.repeat(8)}')`);
  const insertEvent = db.prepare('INSERT INTO events (run_id, seq, event, from_state, to_state, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const base = Date.parse('2024-01-01T00:00:00Z');
  const ids = [];
  db.transaction(() => {
    for (let r = 0; r < runs; r += 1) {
      const id = (0x10000000 + r * 7919).toString(16).slice(-8);
      ids.push(id);
      const created = base + r * 3_600_000;
      const at = (seq) => new Date(created + seq * 1000).toISOString();
      const finished = r % 10 !== 0; // one run in ten is left unfinished
      insertRun.run(id, `KMS${String(r % 50).padStart(2, '0')}`, 'f'.repeat(64), finished ? 'running' : 'restored', finished ? 'done' : 'failed',
        snapshotJson, at(0), at(EVENTS_PER_RUN), finished ? 'done' : 'failed', at(EVENTS_PER_RUN), id);
      let seq = 1;
      insertEvent.run(id, seq, 'run.created', null, 'reinstalled', at(seq), JSON.stringify({ backupFiles: 1000, backupBytes: 209715200, backupDigest: 'c7f1a0d2'.repeat(8) }));
      // Retries fill the log up to EVENTS_PER_RUN: each step fails (file in use) a few times first.
      const retries = Math.floor((EVENTS_PER_RUN - 1 - STEPS.length * 2) / (STEPS.length * 2));
      let spare = EVENTS_PER_RUN - 1 - STEPS.length * 2 - retries * STEPS.length * 2;
      for (const [step, from, to, facts] of STEPS) {
        let attempt = 1;
        for (let k = 0; k < retries + (spare > 1 ? 1 : 0); k += 1) {
          insertEvent.run(id, ++seq, 'step.started', from, from, at(seq), JSON.stringify({ step, attempt: attempt++ }));
          insertEvent.run(id, ++seq, `xstate.error.actor.${step}`, from, from, at(seq), JSON.stringify({ phase: 'failed', error: { code: 'FILE_IN_USE', message: `cannot write C:\\Exchsrvr\\Kmsdata\\KMSMAIL.EDB: the file is in use` } }));
        }
        if (spare > 1) spare -= 2;
        insertEvent.run(id, ++seq, 'step.started', from, from, at(seq), JSON.stringify({ step, attempt }));
        insertEvent.run(id, ++seq, `xstate.done.actor.${step}`, from, to, at(seq), JSON.stringify({ phase: to === 'running' ? 'done' : 'working', facts }));
      }
      while (seq < EVENTS_PER_RUN) insertEvent.run(id, ++seq, 'lease.taken-over', 'running', 'running', at(seq), JSON.stringify({ from: { host: 'KMS01', pid: 4242 } }));
    }
  }).immediate();
  const counts = db.prepare('SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM events) AS events').get();
  db.close();
  return { ids, ...counts };
}

export async function bench() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kms-bench-scale-'));
  try {
    const bigDb = path.join(dir, 'big.db');
    const smallDb = path.join(dir, 'one.db');
    const started = now();
    const big = buildStore(bigDb, RUNS);
    const buildSeconds = (now() - started) / 1000;
    const small = buildStore(smallDb, 1);
    if (big.runs !== RUNS || big.events !== RUNS * EVENTS_PER_RUN) throw new Error(`big store has ${big.runs} runs, ${big.events} events`);
    const named = big.ids[Math.floor(RUNS / 3)];
    const env = { ...process.env, KMS_RECOVER_DB: undefined };
    const cli = (...args) => () => run(process.execPath, [BIN, ...args], { env });
    const listHead = (db) => () => run('sh', ['-c', `"$0" "$1" list --json --db "$2" | head -n 20 > /dev/null`, process.execPath, BIN, db], { env });
    const times = await interleave({
      samples: SAMPLES,
      sides: {
        statusBig: cli('status', '--json', '--db', bigDb),
        statusSmall: cli('status', '--json', '--db', smallDb),
        namedBig: cli('status', named, '--json', '--db', bigDb),
        namedSmall: cli('status', small.ids[0], '--json', '--db', smallDb),
        listBig: listHead(bigDb),
        listSmall: listHead(smallDb),
      },
    });
    const mb = (f) => `${(statSync(f).size / 1024 / 1024).toFixed(0)} MiB`;
    return table(`4. Store scale (${big.runs} runs / ${big.events} events, ${mb(bigDb)}, built in ${buildSeconds.toFixed(1)} s; against 1 run / ${small.events} events)`, [
      row({ name: '`status --json` (latest run)', tool: times.statusBig, baseline: times.statusSmall, baselineName: 'same, database with one run', target: 1.2 }),
      row({ name: '`status <run-id> --json`', tool: times.namedBig, baseline: times.namedSmall, baselineName: 'same, database with one run', target: 1.2 }),
      row({ name: '`list --json \\| head -n 20` (the default page, streamed)', tool: times.listBig, baseline: times.listSmall, baselineName: 'same, database with one run', target: 1.2 }),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log((await bench()).markdown);
