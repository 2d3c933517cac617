// 7. Resume latency: from spawning `kms-recover resume` of a run resting in a failed step to the
// commit of that step's `step.started` (the process kills itself right there: fail point
// `before-step:clearKmsdata`), against a cold `status --json` of the same database.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { BIN } from './cold-start.mjs';
import { interleave, row, run, table } from './measure.mjs';

const SAMPLES = 11;

export async function bench() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kms-bench-resume-'));
  try {
    const sim = path.join(dir, 'server');
    const pristine = path.join(dir, 'pristine.db');
    const db = path.join(dir, 'work.db');
    const env = { ...process.env, KMS_RECOVER_DB: undefined, KMS_ALPHA_STRING: undefined };
    run(process.execPath, [BIN, 'sim', 'init', sim], { env });
    const disk = path.join(sim, 'A', 'Kmspwd.ini');
    // A run resting in a failed step: the clear fails (an injected transient fault), one attempt.
    // --settle 0: the run never reaches the start's settle window here; said for every bench run.
    run(process.execPath, [BIN, 'start', '--kmsdata', path.join(sim, 'Exchsrvr', 'Kmsdata'), '--backup', path.join(sim, 'backup', 'Kmsdata'),
      '--startup-disk', disk, '--db', pristine, '--attempts', 'clearKmsdata=1', '--settle', '0'], { env: { ...env, KMS_RECOVER_FAULT: 'clearKmsdata:1000' }, allowFailure: true });
    const resumeOnce = () => {
      const result = run(process.execPath, [BIN, 'resume', '--db', db, '--startup-disk', disk], { env: { ...env, KMS_RECOVER_FAIL_AT: 'before-step:clearKmsdata' }, allowFailure: true });
      if (result.signal !== 'SIGKILL') throw new Error(`resume did not reach the step (exit ${result.status}): ${result.stderr}`);
    };
    const fresh = () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
      copyFileSync(pristine, db);
    };
    // Once, untimed: the resume really reaches the step and commits its start.
    fresh();
    resumeOnce();
    const check = new Database(db);
    const started = check.prepare("SELECT count(*) AS n FROM events WHERE event = 'step.started' AND json_extract(detail, '$.step') = 'clearKmsdata'").get().n;
    check.close();
    if (started < 2) throw new Error('the resumed step never recorded its start');
    const times = await interleave({
      samples: SAMPLES,
      warmup: 2,
      before: fresh,
      sides: {
        resume: resumeOnce,
        status: () => run(process.execPath, [BIN, 'status', '--json', '--db', db], { env }),
      },
    });
    return table('7. Resume latency (spawn of `resume` to the step\'s `step.started` commit)', [
      row({ name: '`resume` of a run resting in a failed step', tool: times.resume, baseline: times.status, baselineName: 'cold `status --json` of the same database', target: 1.5 }),
    ]);
  } finally {
    run(process.execPath, [BIN, 'sim', 'stop', path.join(dir, 'server')], { allowFailure: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log((await bench()).markdown);
