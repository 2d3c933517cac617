import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/run-cli.js';
import { cliLimit } from '../helpers/time-limit.js';
import { until } from '../helpers/wait.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

interface Opener {
  /** Whether it has loaded the code and now spins, waiting for `go`. */
  ready: () => boolean;
  /** `ok` or the error code. */
  result: Promise<string>;
}

/**
 * One process that loads the persistence code, says `ready`, spins until the file `go` exists and
 * then opens (creates) the database, printing `ok` or the error code. The test creates `go` once
 * both are ready: they open at the same moment however long each took to start.
 */
function opener(file: string, go: string): Opener {
  const script = `import fs from 'node:fs';
import { openDatabase } from ${JSON.stringify(path.join(REPO_ROOT, 'dist/persistence/index.js'))};
console.log('ready');
while (!fs.existsSync(${JSON.stringify(go)})) {}
try { openDatabase(${JSON.stringify(file)}).db.close(); console.log('ok'); } catch (e) { console.log(e.code); }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const result = new Promise<string>((resolve) => child.on('close', () => resolve(out.replace(/^ready\n/, '').trim())));
  return { ready: () => out.startsWith('ready\n'), result };
}

describe('two processes creating one database at once', () => {
  it('both open it: switching a new file to WAL waits for the other instead of failing DB_BUSY', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-create-race-'));
    dirs.push(dir);
    for (let round = 0; round < 8; round += 1) {
      const file = path.join(dir, `race-${round}.db`);
      const go = path.join(dir, `go-${round}`);
      const openers = [opener(file, go), opener(file, go)];
      let ended = 0;
      for (const o of openers) void o.result.finally(() => { ended += 1; });
      await until('both openers to be ready', () => openers.every((o) => o.ready()) || ended > 0);
      fs.writeFileSync(go, '');
      expect(await Promise.all(openers.map((o) => o.result))).toEqual(['ok', 'ok']);
    }
  }, cliLimit(8 * 2));
});
