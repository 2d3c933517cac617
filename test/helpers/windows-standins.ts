import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './run-cli.js';

/*
 * Stand-in `sc.exe` and `powershell.exe` for running the Windows adapter on Linux: Node scripts
 * (shebang, chmod +x) with exactly those names in a temporary folder. Each call appends
 * { tool, argv, stdin } as one JSON line to a record file, then answers with the next scripted
 * response for its command (the last one repeats): a `sc.exe query` fixture, a PowerShell
 * result line, an exit status, and optionally a new script for later calls ("after the start,
 * query says RUNNING").
 */

export const SC_FIXTURES = path.join(REPO_ROOT, 'test/fixtures/sc-query');

export interface StandInResponse {
  /** A file of test/fixtures/sc-query, without `.txt`. */
  fixture?: string;
  /** Literal standard output (PowerShell's result line, say). */
  stdout?: string;
  stderr?: string;
  /** Exit status (default: the Win32 error of an `[SC] ... FAILED n:` fixture, else 0). */
  exit?: number;
  /** Replace these queues once this response is given. */
  then?: Partial<Scenario>;
}

export interface Scenario {
  'sc query': StandInResponse[];
  'sc stop': StandInResponse[];
  powershell: StandInResponse[];
}

export interface Call {
  tool: 'sc.exe' | 'powershell.exe';
  argv: string[];
  stdin: string;
}

export interface StandIns {
  dir: string;
  /** Environment for the adapter's children: where the stand-ins find their script and record. */
  env: NodeJS.ProcessEnv;
  script(scenario: Partial<Scenario>): void;
  calls(): Call[];
  cleanup(): void;
}

const STAND_IN = `#!/usr/bin/env node
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const tool = path.basename(process.argv[1]);
const argv = process.argv.slice(2);
let stdin = '';
try { stdin = fs.readFileSync(0, 'latin1'); } catch { /* no standard input */ }
fs.appendFileSync(process.env.STANDIN_RECORD, JSON.stringify({ tool, argv, stdin }) + '\\n');
const key = tool === 'sc.exe' ? 'sc ' + argv[0] : 'powershell';
const scenario = JSON.parse(fs.readFileSync(process.env.STANDIN_SCENARIO, 'utf8'));
const queue = scenario[key] || [];
const response = queue.length > 1 ? queue.shift() : queue[0];
if (!response) { process.stderr.write('stand-in: no response scripted for ' + key + '\\n'); process.exit(99); }
if (response.then) Object.assign(scenario, response.then);
fs.writeFileSync(process.env.STANDIN_SCENARIO, JSON.stringify(scenario));
let out = response.stdout || '';
if (response.fixture) out = fs.readFileSync(path.join(process.env.STANDIN_FIXTURES, response.fixture + '.txt'), 'latin1');
process.stdout.write(out);
if (response.stderr) process.stderr.write(response.stderr);
const failed = /^\\s*\\[SC\\][^\\r\\n]*?(\\d+):/m.exec(out);
process.exitCode = response.exit !== undefined ? response.exit : failed ? Number(failed[1]) : 0;
`;

/** Creates the two stand-ins in a fresh temporary folder. */
export function createStandIns(): StandIns {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-win-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const name of ['sc.exe', 'powershell.exe']) {
    fs.writeFileSync(path.join(bin, name), STAND_IN);
    fs.chmodSync(path.join(bin, name), 0o755);
  }
  const scenarioFile = path.join(dir, 'scenario.json');
  const recordFile = path.join(dir, 'calls.jsonl');
  fs.writeFileSync(scenarioFile, JSON.stringify({ 'sc query': [], 'sc stop': [], powershell: [] }));
  fs.writeFileSync(recordFile, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STANDIN_SCENARIO: scenarioFile,
    STANDIN_RECORD: recordFile,
    STANDIN_FIXTURES: SC_FIXTURES,
  };
  return {
    dir: bin,
    env,
    script(scenario) {
      const current = JSON.parse(fs.readFileSync(scenarioFile, 'utf8')) as Scenario;
      fs.writeFileSync(scenarioFile, JSON.stringify({ ...current, ...scenario }));
    },
    calls() {
      return fs.readFileSync(recordFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Call);
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A PowerShell answer: the start script's result line. */
export function psResult(result: Record<string, unknown>, exit = 0): StandInResponse {
  return { stdout: `KMS-RECOVER-RESULT ${JSON.stringify(result)}\r\n`, exit };
}

export function readFixture(name: string): string {
  return fs.readFileSync(path.join(SC_FIXTURES, `${name}.txt`), 'latin1');
}
