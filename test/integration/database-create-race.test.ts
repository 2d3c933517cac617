import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/run-cli.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

/** One process opening (creating) the database at the moment given, printing `ok` or the error code. */
function opener(file: string, at: number): Promise<string> {
  const script = `import { openDatabase } from ${JSON.stringify(path.join(REPO_ROOT, 'dist/persistence/index.js'))};
while (Date.now() < ${at}) {}
try { openDatabase(${JSON.stringify(file)}).db.close(); console.log('ok'); } catch (e) { console.log(e.code); }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolve) => child.on('close', () => resolve(out.trim())));
}

describe('two processes creating one database at once', () => {
  it('both open it: switching a new file to WAL waits for the other instead of failing DB_BUSY', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-create-race-'));
    dirs.push(dir);
    for (let round = 0; round < 8; round += 1) {
      const file = path.join(dir, `race-${round}.db`);
      const at = Date.now() + 400;
      expect(await Promise.all([opener(file, at), opener(file, at)])).toEqual(['ok', 'ok']);
    }
  }, 60_000);
});
