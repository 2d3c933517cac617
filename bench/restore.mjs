// 2. Restore with verification of a Kmsdata of 1,000 files / 200 MiB: the product's
// restoreKmsdata (staging copy + SHA-256 in one read pass + fsync + rename) against its floor,
// max(`cp -a; sync`, `sha256sum`) of the same tree: the restore must both put the data on disk and
// read and hash every byte, so it can be no faster than the slower of the two (which one depends on
// the machine: on a 2-core runner `sha256sum` of 200 MiB is slower than `cp -a`). Then the same on
// a Kmsdata of a real KMS's shape (48 files, 49 MiB: realisticLayout). The rows against `cp -a`
// alone, `cp -a; sync` alone and `sha256sum` alone are kept for information.
import { createCipheriv } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildManifest } from '../dist/host/fs/manifest.js';
import { restoreKmsdata } from '../dist/host/fs/restore-kmsdata.js';
import { FencedRun, openDatabase, RunLeases, RunStore } from '../dist/persistence/index.js';
import { boundedRate } from '../dist/recovery/work-progress.js';
import { interleave, maxFloor, row, run, smokeScale, table } from './measure.mjs';

const SAMPLES = 5;
/** The real-shaped tree takes a tenth of the time: more samples for the same confidence. */
const REAL_SAMPLES = 9;
const FILE_COUNT = 1000;
const TOTAL_BYTES = 200 * 1024 * 1024;
const MiB = 1024 * 1024;

/** Deterministic small PRNG (mulberry32) for sizes and names. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Kmsdata-like layout: one big database, 16 logs, and the rest as many small files in nested folders. */
export function layout() {
  const random = prng(198814);
  const files = [{ rel: 'KMSMAIL.EDB', size: 40 * MiB }];
  for (let i = 1; i <= 16; i += 1) files.push({ rel: `logs/edb${String(i).padStart(5, '0')}.log`, size: 5 * MiB });
  const small = FILE_COUNT - files.length;
  const rest = TOTAL_BYTES - files.reduce((sum, f) => sum + f.size, 0);
  const weights = Array.from({ length: small }, () => 0.2 + random() * 1.8);
  const weightSum = weights.reduce((s, w) => s + w, 0);
  let assigned = 0;
  for (let i = 0; i < small; i += 1) {
    const size = i === small - 1 ? rest - assigned : Math.floor((rest * weights[i]) / weightSum);
    assigned += size;
    files.push({ rel: `users/${String(i % 20).padStart(2, '0')}/${String(Math.floor(i / 20) % 5)}/user-${String(i).padStart(4, '0')}.key`, size });
  }
  return files.map((f) => ({ ...f, size: smokeScale(f.size) }));
}

/**
 * The shape of a real Exchange 5.5 KMS's Kmsdata (tens of MB): its Jet database, the current and
 * two earlier transaction logs and the two reserve logs (5 MiB each, as Jet writes them), the
 * checkpoint file and a temporary database, and a few dozen small files (certificates, manager
 * entries) in two folders. 48 files, 49 MiB.
 */
export function realisticLayout() {
  const files = [
    { rel: 'KMSMDB.EDB', size: 24 * MiB },
    ...['edb.log', 'edb00001.log', 'edb00002.log', 'res1.log', 'res2.log'].map((rel) => ({ rel, size: 5 * MiB })),
    { rel: 'edb.chk', size: 8 * 1024 },
    { rel: 'tmp.edb', size: 256 * 1024 },
  ];
  for (let i = 0; i < 24; i += 1) files.push({ rel: `certs/user-${String(i).padStart(2, '0')}.cer`, size: 1200 + i * 37 });
  for (let i = 0; i < 16; i += 1) files.push({ rel: `mgr/ent-${String(i).padStart(2, '0')}.dat`, size: 4096 + i * 300 });
  return files.map((f) => ({ ...f, size: smokeScale(f.size) }));
}

/** Writes the tree with deterministic pseudo-random bytes (AES-256-CTR over zeros, one key per file). */
export function generateTree(root, files = layout()) {
  for (const [index, file] of files.entries()) {
    const full = path.join(root, ...file.rel.split('/'));
    mkdirSync(path.dirname(full), { recursive: true });
    const key = Buffer.alloc(32, 0);
    key.writeUInt32BE(index, 0);
    const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16, 0));
    writeFileSync(full, Buffer.concat([cipher.update(Buffer.alloc(file.size)), cipher.final()]));
  }
  return files;
}

/**
 * Samples of restoreKmsdata() of `files` (generated under `dir`) against `cp -a`, `sha256sum` and
 * `cp -a; sync` of the same tree, interleaved; progress written as the driver writes it.
 */
async function measureTree(dir, files, samples) {
  const backup = path.join(dir, 'backup', 'Kmsdata');
  const exchsrvr = path.join(dir, 'Exchsrvr');
  const kmsdata = path.join(exchsrvr, 'Kmsdata');
  const cpDest = path.join(dir, 'cp', 'Kmsdata');
  mkdirSync(backup, { recursive: true });
  generateTree(backup, files);
  const manifest = await buildManifest(backup);
  if (manifest.fileCount !== files.length || manifest.totalBytes !== files.reduce((sum, f) => sum + f.size, 0)) throw new Error('unexpected generated tree');
  mkdirSync(path.dirname(cpDest), { recursive: true });
  run('sync', []);

  // The tool writes its progress as the driver does: through the fenced handle, at the bounded
  // rate (recovery/work-progress.ts), into a database made by openDatabase (WAL, synchronous=FULL).
  const { db } = openDatabase(path.join(dir, 'progress.db'));
  const store = new RunStore(db);
  store.createRun({
    id: '5e0c2b91', host: 'KMS01', machineVersion: 3, definitionHash: 'f'.repeat(64), adapter: 'sim', adapterConfig: {}, serverKey: kmsdata,
    params: { serviceName: 'MSExchangeKMS', kmsdata: 'C:\\Exchsrvr\\Kmsdata', backup: 'D:\\backup\\Kmsdata' }, claim: { claim: 'C:\\Exchsrvr\\kms-recover.claim', recoveredBefore: null },
    state: 'cleared', phase: 'working', snapshot: {}, manifest: { files: [], dirs: [], fileCount: 0, totalBytes: 0, digest: '' },
  });
  const fenced = new FencedRun(store, '5e0c2b91', new RunLeases(db).acquire('5e0c2b91', { host: 'KMS01', pid: process.pid, processStart: null }, () => false).token);
  let progressWrites = 0;

  const times = await interleave({
    samples,
    // Every sample starts from the same place: destination gone, dirty pages of the previous
    // sample written out (untimed), the backup in the page cache for everyone.
    before: () => {
      rmSync(exchsrvr, { recursive: true, force: true });
      rmSync(cpDest, { recursive: true, force: true });
      mkdirSync(kmsdata, { recursive: true });
      run('sync', []);
    },
    sides: {
      tool: async () => {
        const onProgress = boundedRate((p) => { progressWrites += 1; fenced.progress({ step: 'restoreKmsdata', attempt: 1, activity: 'copy', ...p }); });
        const report = await restoreKmsdata(backup, kmsdata, manifest, '5e0c2b91', { onProgress });
        if (report.fileCount !== files.length) throw new Error('restore copied the wrong number of files');
      },
      cp: () => run('cp', ['-a', backup, cpDest]),
      sha256sum: () => run('sh', ['-c', 'find "$1" -type f -exec sha256sum {} + > /dev/null', 'sh', backup]),
      cpSync: () => { run('cp', ['-a', backup, cpDest]); run('sync', []); },
    },
  });
  db.close();
  return { times, manifest, progressWrites };
}

export async function bench() {
  const tmp = os.tmpdir();
  const { bavail, bsize } = statfsSync(tmp);
  const needed = 4 * TOTAL_BYTES; // backup + product copy + cp copy + staging headroom
  if (bavail * bsize < needed) throw new Error(`restore bench needs ${needed} bytes free in ${tmp}`);
  const dir = mkdtempSync(path.join(tmp, 'kms-bench-restore-'));
  try {
    const files = layout();
    const { times, manifest, progressWrites } = await measureTree(path.join(dir, 'bench'), files, SAMPLES);
    rmSync(path.join(dir, 'bench'), { recursive: true, force: true });
    const real = await measureTree(path.join(dir, 'real'), realisticLayout(), REAL_SAMPLES);
    const bigFiles = files.filter((f) => f.size >= smokeScale(MiB)).length;
    const realMib = (real.manifest.totalBytes / MiB).toFixed(0);
    const totalMib = (manifest.totalBytes / MiB).toFixed(0);
    const floorLabels = (t) => ({ '`cp -a; sync`': t.cpSync, '`sha256sum` of every file': t.sha256sum });
    const realName = `restoreKmsdata(), ${real.manifest.fileCount} files / ${realMib} MiB (a real KMS's shape)`;
    const floorNote = 'floor: the slower (by median) of `cp -a` then `sync` (the data on disk, no hash) and `sha256sum` of every file (every byte read and hashed, nothing written); the restore must do both';
    return table(`2. Restore with verification (${manifest.fileCount} files, ${totalMib} MiB: ${bigFiles} files of 5-40 MiB, the rest 35-155 KiB, in ${manifest.dirs.length} folders; progress written to SQLite ${progressWrites} times over all samples; then a Kmsdata of a real KMS's shape, ${real.manifest.fileCount} files / ${realMib} MiB)`, [
      row({ name: 'restoreKmsdata()', tool: times.tool, ...maxFloor(floorLabels(times)), target: 1.1, note: floorNote }),
      row({ name: realName, tool: real.times.tool, ...maxFloor(floorLabels(real.times)), target: 1.1, note: floorNote }),
      row({ name: 'restoreKmsdata() (informational)', tool: times.tool, baseline: times.cp, baselineName: '`cp -a` alone (no fsync, no hash)' }),
      row({ name: 'restoreKmsdata() (informational)', tool: times.tool, baseline: times.cpSync, baselineName: '`cp -a` then `sync` alone (data on disk, no hash)' }),
      row({ name: 'restoreKmsdata() (informational)', tool: times.tool, baseline: times.sha256sum, baselineName: '`sha256sum` of every file alone (read + hash, no write)' }),
      row({ name: `${realName} (informational)`, tool: real.times.tool, baseline: real.times.cp, baselineName: '`cp -a` alone (no fsync, no hash)' }),
      row({ name: `${realName} (informational)`, tool: real.times.tool, baseline: real.times.cpSync, baselineName: '`cp -a` then `sync` alone (data on disk, no hash)' }),
      row({ name: `${realName} (informational)`, tool: real.times.tool, baseline: real.times.sha256sum, baselineName: '`sha256sum` of every file alone (read + hash, no write)' }),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log((await bench()).markdown);
