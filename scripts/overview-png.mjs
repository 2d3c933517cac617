#!/usr/bin/env node
// Regenerates diagrams/overview-interrupted.png, the README's picture of a run interrupted during
// KB steps 5-6, from the built CLI (run `npm run build` first): a simulated server in
// /tmp/kms-demo, a run killed right after it reached `restored` (the tool's own fail
// point), its overview as SVG (`kms-recover diagram --format svg`), and a headless Chromium's
// screenshot of that SVG at its own size (1 pt = 4/3 px, as a browser at 100 % draws it).
// Needs Chromium (`chromium` on the PATH, or CHROMIUM=<its path>); without it, it says so and exits 1.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/cli/index.js');
const target = path.join(root, 'diagrams/overview-interrupted.png');
const chromium = process.env.CHROMIUM ?? 'chromium';
if (spawnSync(chromium, ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error(`no Chromium (${chromium}): diagrams/overview-interrupted.png is left as it is; set CHROMIUM to its path`);
  process.exit(1);
}

// A fixed, short folder: its path is in the picture (KB step 3 names the run's Kmsdata).
const dir = '/tmp/kms-demo';
const server = path.join(dir, 'server');
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir);
const env = { ...process.env, KMS_RECOVER_HOME: path.join(dir, 'home') };
delete env.KMS_ALPHA_STRING;
delete env.KMS_RECOVER_DB;
const db = path.join(dir, 'kms-recover.db');
const kms = (args, extra = {}) => spawnSync(process.execPath, [cli, ...args], { env: { ...env, ...extra }, cwd: dir, encoding: 'utf8' });
try {
  const init = kms(['sim', 'init', server]);
  if (init.status !== 0) throw new Error(`sim init failed: ${init.stderr}`);
  // The alpha string from the environment, not --startup-disk: the picture's Next is the short resume command.
  const alpha = /pwd=(.*)\r?\n/.exec(fs.readFileSync(path.join(server, 'A/Kmspwd.ini'), 'latin1'))[1];
  const started = kms(['start', '--kmsdata', path.join(server, 'Exchsrvr/Kmsdata'), '--backup', path.join(server, 'backup/Kmsdata'),
    '--db', db, '--settle', '0'], { KMS_ALPHA_STRING: alpha, KMS_RECOVER_FAIL_AT: 'after-checkpoint:restored' });
  if (started.signal !== 'SIGKILL') throw new Error(`the run was not cut off after restored: ${started.stdout}${started.stderr}`);
  const svg = path.join(dir, 'overview.svg');
  const drawn = kms(['diagram', '--format', 'svg', '--db', db, '-o', svg]);
  if (drawn.status !== 0) throw new Error(`diagram failed: ${drawn.stderr}`);
  const size = (name) => Number.parseFloat(new RegExp(`<svg[^>]*\\s${name}="([\\d.]+)pt"`).exec(fs.readFileSync(svg, 'utf8'))[1]) * 4 / 3;
  const width = Math.ceil(size('width'));
  const height = Math.ceil(size('height'));
  execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--force-device-scale-factor=1',
    `--window-size=${width},${height}`, `--screenshot=${target}`, `file://${svg}`], { stdio: 'ignore' });
  console.log(`wrote diagrams/overview-interrupted.png (${width}×${height})`);
} finally {
  kms(['sim', 'stop', server]);
  fs.rmSync(dir, { recursive: true, force: true });
}
