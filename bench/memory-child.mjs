// One restore in a process of its own, for bench/memory.mjs: prints its peak RSS in KiB.
import { readFileSync } from 'node:fs';
import { restoreKmsdata } from '../dist/host/fs/restore-kmsdata.js';

const [backup, kmsdata, manifestFile] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
await restoreKmsdata(backup, kmsdata, manifest, 'bench');
process.stdout.write(`${process.resourceUsage().maxRSS}\n`);
