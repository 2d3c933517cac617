import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimServiceManager } from '../../host/sim/index.js';
import { parseJson, runCli } from './run-cli.js';

export interface SimFixture {
  dir: string;
  root: string;
  kmsdata: string;
  backup: string;
  startupDisk: string;
  db: string;
  log: string;
  /** The original alpha string, read back from the startup disk (to prove it leaks nowhere). */
  alpha: string;
}

const roots: string[] = [];

/** A fresh simulated host built by `kms-recover sim init`, and a database path beside it. */
export async function simFixture(initArgs: string[] = []): Promise<SimFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-it-'));
  const root = path.join(dir, 'server');
  roots.push(dir); // cleaned up even if sim init fails half-way
  const result = await runCli(['sim', 'init', root, '--json', ...initArgs]);
  if (result.code !== 0) throw new Error(`sim init failed: ${result.stderr}`);
  const paths = parseJson<{ root: string; kmsdata: string; backup: string; startupDisk: string }>(result);
  const alpha = /pwd=(.*)\r?\n/.exec(fs.readFileSync(paths.startupDisk, 'latin1'))![1]!;
  return { dir, ...paths, db: path.join(dir, 'runs.db'), log: path.join(dir, 'runs.log'), alpha };
}

/** Stops every simulated KMS daemon the tests started and removes their folders. */
export async function cleanupSimFixtures(): Promise<void> {
  for (const dir of roots.splice(0)) {
    const root = path.join(dir, 'server');
    if (fs.existsSync(path.join(root, 'scm/services.json'))) await new SimServiceManager(root).killAll().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every file under `dir` with its bytes, keyed by relative path: equal trees give equal maps. */
export function treeBytes(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) {
        out.set(`${child}/`, Buffer.alloc(0));
        walk(child);
      } else out.set(child, fs.readFileSync(path.join(dir, child)));
    }
  };
  walk('');
  return out;
}

/** Whether `needle` occurs in any of the files (missing files count as not containing it). */
export function filesContaining(files: string[], needle: string): string[] {
  return files.filter((f) => fs.existsSync(f) && fs.readFileSync(f).includes(Buffer.from(needle, 'latin1')));
}
