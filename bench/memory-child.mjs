// One restore in a process of its own, for bench/memory.mjs: prints its peak RSS in KiB.
import { readFileSync } from 'node:fs';
import { restoreKmsdata } from '../dist/host/fs/restore-kmsdata.js';

/**
 * The peak resident set of this process's own memory (Linux: VmHWM). Not
 * process.resourceUsage().maxRSS: Linux carries a parent's peak over fork and exec into the
 * child's, so after the other benchmarks it reported `npm run bench`'s own RSS for both trees.
 */
function peakRssKiB() {
  if (process.platform !== 'linux') return process.resourceUsage().maxRSS;
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS;
}

const [backup, kmsdata, manifestFile] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
await restoreKmsdata(backup, kmsdata, manifest, 'bench');
process.stdout.write(`${peakRssKiB()}\n`);
