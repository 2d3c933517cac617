// 8. Memory stays flat as work grows: the peak RSS of a restore of 2,000 files / 1 GiB against
// that of 200 files / 100 MiB, each in a process of its own (median of the samples).
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildManifest } from '../dist/host/fs/manifest.js';
import { row, run, table } from './measure.mjs';

const SAMPLES = 3;
const MiB = 1024 * 1024;
const CHILD = fileURLToPath(new URL('./memory-child.mjs', import.meta.url));

async function tree(root, files, bytes) {
  const size = Math.floor(bytes / files);
  for (let i = 0; i < files; i += 1) {
    const full = path.join(root, `d${i % 40}`, `f${i}.dat`);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, randomBytes(size));
  }
  const manifest = await buildManifest(root);
  const file = `${root}.manifest.json`;
  writeFileSync(file, JSON.stringify(manifest));
  return file;
}

export async function bench() {
  const tmp = os.tmpdir();
  const { bavail, bsize } = statfsSync(tmp);
  if (bavail * bsize < 3 * 1100 * MiB) throw new Error(`the memory bench needs about 3.3 GiB free in ${tmp}`);
  const dir = mkdtempSync(path.join(tmp, 'kms-bench-mem-'));
  try {
    const small = { backup: path.join(dir, 'small-backup'), files: 200, bytes: 100 * MiB };
    const big = { backup: path.join(dir, 'big-backup'), files: 2000, bytes: 1024 * MiB };
    for (const t of [small, big]) t.manifest = await tree(t.backup, t.files, t.bytes);
    const rss = { small: [], big: [] };
    for (let i = 0; i < SAMPLES; i += 1) {
      for (const [name, t] of [['small', small], ['big', big]]) {
        const kmsdata = path.join(dir, name, 'Exchsrvr', 'Kmsdata');
        rmSync(path.join(dir, name), { recursive: true, force: true });
        mkdirSync(kmsdata, { recursive: true });
        rss[name].push(Number(run(process.execPath, [CHILD, t.backup, kmsdata, t.manifest]).stdout.trim()));
      }
    }
    return table('8. Memory flat (peak RSS of one restore in its own process)', [
      row({ name: `restore of ${big.files} files / 1 GiB`, tool: rss.big, baseline: rss.small, baselineName: `restore of ${small.files} files / 100 MiB`, target: 1.2, unit: 'KiB' }),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log((await bench()).markdown);
