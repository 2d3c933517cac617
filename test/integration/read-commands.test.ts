import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { printedCommand, runCli } from '../helpers/run-cli.js';
import { cliLimit } from '../helpers/time-limit.js';

/*
 * Read commands never write: status, list, history and diagram leave every file as they found
 * it — a foreign database with a hot journal (SQLite would roll it back on open), an empty file
 * (SQLite would make it a database), a file that is not SQLite at all.
 */

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-read-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** Every file in the folder with its bytes: what must not change. */
function folderBytes(): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((name) => [name, fs.readFileSync(path.join(dir, name)).toString('base64')]));
}

/** Another program's database, left with a hot journal: a writer killed in the middle of a transaction. */
function foreignWithHotJournal(): string {
  const file = path.join(dir, 'other.db');
  const script = `
    const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
    const db = new Database(${JSON.stringify(file)});
    db.pragma('journal_mode = DELETE');
    db.pragma('cache_size = 1');
    db.exec('CREATE TABLE t (x BLOB)');
    const insert = db.prepare('INSERT INTO t VALUES (randomblob(4000))');
    for (let i = 0; i < 200; i++) insert.run();
    db.exec('BEGIN');
    db.exec('UPDATE t SET x = randomblob(4000)');
    process.kill(process.pid, 'SIGKILL');
  `;
  spawnSync(process.execPath, ['-e', script]);
  expect(fs.existsSync(`${file}-journal`), 'the killed writer left its journal').toBe(true);
  return file;
}

const CASES: [string, () => string][] = [
  ['a foreign database with a hot journal', foreignWithHotJournal],
  ['an empty file', () => { const f = path.join(dir, 'empty.db'); fs.writeFileSync(f, ''); return f; }],
  ['a file that is not SQLite', () => { const f = path.join(dir, 'notes.db'); fs.writeFileSync(f, 'just some notes\n'); return f; }],
];

const COMMANDS: [string, string[]][] = [
  ['status', ['status']], ['status --json', ['status', '--json']], ['list', ['list']], ['history', ['history', 'abcd1234']],
  ['diagram', ['diagram']],
];

describe('read commands leave every file as they found it', () => {
  for (const [what, make] of CASES) {
    for (const [name, args] of COMMANDS) {
      it(`${name} on ${what}: refused (exit 6), not a byte changed, no file added`, async () => {
        const file = make();
        const before = folderBytes();
        const result = await runCli([...args, '--db', file]);
        expect(result.code, result.stderr).toBe(6);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(folderBytes()).toEqual(before);
      }, cliLimit(2)); // the command; for the hot journal, first the writer killed in its transaction
    }
  }

  it('an older schema of ours is reported by status, not upgraded', async () => {
    const file = path.join(dir, 'old.db');
    const db = new Database(file);
    db.pragma('application_id = 1263358802'); // "KMSR"
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE runs (id TEXT PRIMARY KEY)');
    db.pragma('user_version = 2');
    db.close();
    const before = folderBytes();
    const result = await runCli(['status', '--db', file]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/schema version 2, made by an older kms-recover; /);
    expect(result.stderr).toContain(`${printedCommand('kms-recover resume', file)} upgrades it`);
    expect(folderBytes()).toEqual(before);
  }, cliLimit(1));
});
