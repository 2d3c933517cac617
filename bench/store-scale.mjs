// 4. Store scale: every command an operator runs against a database holding 10,000 runs and
// 1,000,000 events (and the two real runs measured) against the same command on a database
// holding only the run it works on: status (latest, named), list, history, resume of a failed
// run, confirm, report; check-db (the whole file, on demand and once a day) for information.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXIT } from '../dist/errors/index.js';
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
  // Each step.started has its attempt's row (schema v6), ended by the step's done or error.
  const insertAttempt = db.prepare(`INSERT INTO step_attempts (run_id, step, attempt, started_seq, started_at, ended_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)`);
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
          insertAttempt.run(id, step, attempt, seq + 1, at(seq + 1), at(seq + 2), 'error');
          insertEvent.run(id, ++seq, 'step.started', from, from, at(seq), JSON.stringify({ step, attempt: attempt++ }));
          insertEvent.run(id, ++seq, `xstate.error.actor.${step}`, from, from, at(seq), JSON.stringify({ phase: 'failed', error: { code: 'FILE_IN_USE', message: `cannot write C:\\Exchsrvr\\Kmsdata\\KMSMAIL.EDB: the file is in use` } }));
        }
        if (spare > 1) spare -= 2;
        insertAttempt.run(id, step, attempt, seq + 1, at(seq + 1), at(seq + 2), 'done');
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

/**
 * A real run made by the CLI on a simulated server of its own: `failed`, resting in a failed clear
 * (an injected fault, on every attempt); `waiting`, waiting for the operator to stop the service
 * by hand (`--manual stopService`).
 */
function realRun(dir, db, env, kind) {
  const root = path.join(dir, `${path.basename(db, '.db')}-${kind}`);
  run(process.execPath, [BIN, 'sim', 'init', root], { env });
  const sim = { root, disk: path.join(root, 'A', 'Kmspwd.ini'), kmsdata: path.join(root, 'Exchsrvr', 'Kmsdata'), backup: path.join(root, 'backup', 'Kmsdata') };
  const args = kind === 'failed' ? ['--attempts', 'clearKmsdata=1'] : ['--manual', 'stopService'];
  // --settle 0: no run measured here reaches the start's settle window.
  const result = run(process.execPath, [BIN, 'start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--startup-disk', sim.disk, '--db', db, '--settle', '0', '--json', ...args],
    { env: kind === 'failed' ? { ...env, KMS_RECOVER_FAULT: FAULT } : env, allowFailure: true });
  const { runId, phase } = JSON.parse(result.stdout);
  if (phase !== kind) throw new Error(`the ${kind} run is ${phase}: ${result.stderr}`);
  return { id: runId, sim };
}

/** Every attempt of the clear fails, so each `resume` of the failed run ends failed again. */
const FAULT = 'clearKmsdata:1000000';

export async function bench() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kms-bench-scale-'));
  const sims = [];
  const env = { ...process.env, KMS_RECOVER_DB: undefined, KMS_ALPHA_STRING: undefined, KMS_RECOVER_FAULT: undefined };
  try {
    const bigDb = path.join(dir, 'big.db');
    const started = now();
    const big = buildStore(bigDb, RUNS);
    const buildSeconds = (now() - started) / 1000;
    if (big.runs !== RUNS || big.events !== RUNS * EVENTS_PER_RUN) throw new Error(`big store has ${big.runs} runs, ${big.events} events`);
    // The runs measured. In the big store the failed run is made last: it is the latest run.
    const bigRuns = { waiting: realRun(dir, bigDb, env, 'waiting'), failed: realRun(dir, bigDb, env, 'failed') };
    // The one-run databases: each holds only the run its commands work on.
    const failedDb = path.join(dir, 'one-failed.db');
    const waitingDb = path.join(dir, 'one-waiting.db');
    const small = { failed: realRun(dir, failedDb, env, 'failed'), waiting: realRun(dir, waitingDb, env, 'waiting') };
    sims.push(...[bigRuns, small].flatMap((r) => [r.failed.sim.root, r.waiting.sim.root]));
    const cli = (...args) => () => run(process.execPath, [BIN, ...args], { env });
    const listHead = (db) => () => run('sh', ['-c', `"$0" "$1" list --json --db "$2" | head -n 20 > /dev/null`, process.execPath, BIN, db], { env });
    // `resume` of the failed run: open, lease, server checks, the clear's start, its (injected) failure, release.
    const resume = (db, runs) => () => {
      const result = run(process.execPath, [BIN, 'resume', runs.failed.id, '--startup-disk', runs.failed.sim.disk, '--db', db], { env: { ...env, KMS_RECOVER_FAULT: FAULT }, allowFailure: true });
      if (!/INJECTED_FAULT/.test(result.stdout + result.stderr)) throw new Error(`resume did not reach the clear (exit ${result.status}): ${result.stderr}`);
    };
    // `confirm` of the manual stop, the service still running: recorded, verified on the server, refused; the run waits again.
    const confirm = (db, runs) => () => {
      const result = run(process.execPath, [BIN, 'confirm', runs.waiting.id, 'stopService', '--startup-disk', runs.waiting.sim.disk, '--db', db], { env, allowFailure: true });
      if (result.status !== EXIT.WAITING) throw new Error(`confirm did not verify and refuse (exit ${result.status}): ${result.stderr}`);
    };
    const times = await interleave({
      samples: SAMPLES,
      sides: {
        statusBig: cli('status', '--json', '--db', bigDb),
        statusSmall: cli('status', '--json', '--db', failedDb),
        namedBig: cli('status', bigRuns.failed.id, '--json', '--db', bigDb),
        namedSmall: cli('status', small.failed.id, '--json', '--db', failedDb),
        listBig: listHead(bigDb),
        listSmall: listHead(failedDb),
        historyBig: cli('history', bigRuns.failed.id, '--db', bigDb),
        historySmall: cli('history', small.failed.id, '--db', failedDb),
        resumeBig: resume(bigDb, bigRuns),
        resumeSmall: resume(failedDb, small),
        confirmBig: confirm(bigDb, bigRuns),
        confirmSmall: confirm(waitingDb, small),
        reportBig: cli('report', bigRuns.failed.id, '--format', 'json', '-o', '-', '--db', bigDb),
        reportSmall: cli('report', small.failed.id, '--format', 'json', '-o', '-', '--db', failedDb),
        checkBig: cli('check-db', '--db', bigDb),
        checkSmall: cli('check-db', '--db', failedDb),
      },
    });
    const mb = (f) => `${(statSync(f).size / 1024 / 1024).toFixed(0)} MiB`;
    const same = 'same, database with that run only';
    return table(`4. Store scale (${big.runs} runs / ${big.events} events + the 2 runs measured, ${mb(bigDb)}, built in ${buildSeconds.toFixed(1)} s; against a database holding only the run measured)`, [
      row({ name: '`status --json` (latest run)', tool: times.statusBig, baseline: times.statusSmall, baselineName: same, target: 1.2 }),
      row({ name: '`status <run-id> --json`', tool: times.namedBig, baseline: times.namedSmall, baselineName: same, target: 1.2 }),
      row({ name: '`list --json \\| head -n 20` (the default page, streamed)', tool: times.listBig, baseline: times.listSmall, baselineName: same, target: 1.2 }),
      row({ name: '`history <run-id>`', tool: times.historyBig, baseline: times.historySmall, baselineName: same, target: 1.2 }),
      row({
        name: '`resume <run-id>` of a run resting in a failed clear', tool: times.resumeBig, baseline: times.resumeSmall, baselineName: same, target: 1.2,
        note: 'open for writing (its damage check: the leases and every page read; the whole file at most once a day, last done when the store was made), lease, server checks, the clear\'s start and its injected failure, release',
      }),
      row({
        name: '`confirm <run-id> stopService` (the service still running)', tool: times.confirmBig, baseline: times.confirmSmall, baselineName: same, target: 1.2,
        note: 'the confirm recorded, the stop verified on the server and refused (exit 8, waiting); the run waits again, so every sample does the same work',
      }),
      row({
        name: '`report <run-id> --format json -o -`', tool: times.reportBig, baseline: times.reportSmall, baselineName: same, target: 1.2,
        note: 'the incident report\'s facts: the run\'s row, events, attempts and ledger',
      }),
      row({
        name: '`check-db` (the whole file: PRAGMA quick_check)', tool: times.checkBig, baseline: times.checkSmall, baselineName: same,
        note: 'informational: what the once-a-day full check of a command that writes costs on this store; grows with the file, by design',
      }),
    ]);
  } finally {
    for (const sim of sims) run(process.execPath, [BIN, 'sim', 'stop', sim], { allowFailure: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log((await bench()).markdown);
