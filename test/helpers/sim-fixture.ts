import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { SimServiceManager, simPaths } from '../../host/sim/index.js';
import { KMS_SERVICE_NAME } from '../../domain/index.js';
import { runCli } from './run-cli.js';

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

/*
 * A simulated server is built once per `sim init` arguments by the real `kms-recover sim init`
 * (then stopped: a template serves no KMS), and each fixture is a byte copy of it whose
 * reinstalled KMS is started as `sim init` leaves it: running, with the reinstall's alpha string.
 * The templates live in the folder test/helpers/global-setup.ts makes for the whole `vitest run`
 * (shared by every worker); without it (a file run under another config), in one of this
 * process's own. The fixtures of one template share its alpha strings; each test makes its own.
 */

const roots: string[] = [];
const templates = new Map<string, Promise<string>>();
let ownTemplateDir: string | undefined;

function templateDir(): string {
  const shared = inject('simTemplateDir');
  if (shared) return shared;
  if (!ownTemplateDir) {
    ownTemplateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-templates-'));
    const made = ownTemplateDir;
    process.once('exit', () => fs.rmSync(made, { recursive: true, force: true }));
  }
  return ownTemplateDir;
}

/** The alpha string of a startup disk (`[config]`, `pwd=<14 characters>`). */
export function alphaOf(disk: string): string {
  return /pwd=(.*)\r?\n/.exec(fs.readFileSync(disk, 'latin1'))![1]!;
}

/** The root of the (stopped) template server for `initArgs`, built once by `kms-recover sim init`. */
function template(initArgs: string[]): Promise<string> {
  const key = createHash('sha256').update(JSON.stringify(initArgs)).digest('hex').slice(0, 16);
  let made = templates.get(key);
  if (!made) {
    made = buildTemplate(path.join(templateDir(), key), initArgs);
    templates.set(key, made);
    made.catch(() => templates.delete(key)); // a failed build is tried again by the next fixture
  }
  return made;
}

async function buildTemplate(final: string, initArgs: string[]): Promise<string> {
  const root = path.join(final, 'server');
  if (fs.existsSync(path.join(final, 'ready'))) return root;
  const building = fs.mkdtempSync(`${final}.building-`);
  try {
    const result = await runCli(['sim', 'init', path.join(building, 'server'), '--json', ...initArgs], { forFixture: true });
    if (result.code !== 0) throw new Error(`sim init failed: ${result.stderr}`);
    await new SimServiceManager(path.join(building, 'server')).stopService(KMS_SERVICE_NAME, {});
    fs.writeFileSync(path.join(building, 'ready'), '');
    try {
      fs.renameSync(building, final);
    } catch (error) {
      // Another worker built the same template first: use that one.
      if (!fs.existsSync(path.join(final, 'ready'))) throw error;
    }
    return root;
  } finally {
    fs.rmSync(building, { recursive: true, force: true });
  }
}

/**
 * A fresh simulated host, as `kms-recover sim init <initArgs>` builds it (a copy of the template
 * it built), and a database path beside it. `disposeSimFixture` removes it (a test running
 * concurrently with others disposes of its own), `cleanupSimFixtures` all of them.
 */
export async function simFixture(initArgs: string[] = []): Promise<SimFixture> {
  return copyOfTemplate(initArgs, (dir) => roots.push(dir));
}

/**
 * A simulated host that several tests of a file share (made in beforeAll, for tests that only
 * read it): `cleanupSimFixtures` leaves it alone; the file disposes of it in afterAll.
 */
export async function sharedSimFixture(initArgs: string[] = []): Promise<SimFixture> {
  return copyOfTemplate(initArgs, (dir) => shared.push(dir));
}

const shared: string[] = [];
process.once('exit', () => { for (const dir of shared) fs.rmSync(dir, { recursive: true, force: true }); });

async function copyOfTemplate(initArgs: string[], track: (dir: string) => void): Promise<SimFixture> {
  const from = await template(initArgs);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-it-'));
  const root = path.join(dir, 'server');
  track(dir); // cleaned up even if the copy or the start fails half-way
  const paths = simPaths(root);
  const templateLog = simPaths(from).daemonLog;
  fs.cpSync(from, root, { recursive: true, filter: (source) => source !== templateLog });
  await new SimServiceManager(root).startService(KMS_SERVICE_NAME, [alphaOf(paths.reinstallDisk)], {});
  return {
    dir, root, kmsdata: paths.kmsdata, backup: paths.backup, startupDisk: paths.startupDisk,
    db: path.join(dir, 'runs.db'), log: path.join(dir, 'runs.log'), alpha: alphaOf(paths.startupDisk),
  };
}

/** Kills the fixture's KMS daemons (and any orphan serving its Kmsdata) and removes its folder. */
export async function disposeSimFixture(sim: Pick<SimFixture, 'dir'>): Promise<void> {
  const at = roots.indexOf(sim.dir);
  if (at >= 0) roots.splice(at, 1);
  const root = path.join(sim.dir, 'server');
  if (fs.existsSync(path.join(root, 'scm/services.json'))) await new SimServiceManager(root).killAll().catch(() => undefined);
  fs.rmSync(sim.dir, { recursive: true, force: true });
}

/** Stops every simulated KMS daemon the tests started and removes their folders. */
export async function cleanupSimFixtures(): Promise<void> {
  for (const dir of [...roots]) await disposeSimFixture({ dir });
}

/** The files the alpha string must never reach: the database, its WAL and shared memory, the log. */
export function secretFiles(sim: SimFixture): string[] {
  return [sim.db, `${sim.db}-wal`, `${sim.db}-shm`, sim.log];
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
