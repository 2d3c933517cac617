// `npm run bench`: every benchmark, one after the other, each against its baseline measured
// side by side in the same run. Prints Markdown tables (the body of bench/RESULTS.md), or with
// `--json` the same figures as one JSON document. Run one alone with `node bench/<name>.mjs`
// after `npm run build`; `npm run bench -- <name> ...` runs some. `KMS_BENCH_SMOKE=1` makes every
// benchmark that reads it a smoke run (one sample, small trees): it proves the scripts run, no more.
import os from 'node:os';

const benches = ['checkpoint', 'restore', 'cold-start', 'store-scale', 'verify', 'clear-ledger', 'resume-latency', 'memory', 'recovery-cost'];
const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args.filter((a) => a !== '--json');

const machine = { at: new Date().toISOString(), cores: os.cpus().length, node: process.version, os: `${os.platform()} ${os.release()}`, tmp: os.tmpdir(), loadavg: os.loadavg() };
if (!json) console.log(`kms-recover benchmarks — ${machine.at}, ${machine.cores} cores, node ${machine.node}, ${machine.os}, tmp ${machine.tmp}, load ${machine.loadavg.map((l) => l.toFixed(2)).join(' ')}\n`);
const results = [];
for (const name of benches.filter((b) => only.length === 0 || only.includes(b))) {
  const { bench } = await import(`./${name}.mjs`);
  const result = await bench();
  results.push({ bench: name, ...result });
  if (!json) console.log(`${result.markdown}\n`);
}
const rows = results.flatMap((r) => r.rows);
const misses = rows.filter((r) => r.verdict === 'MISS').length;
if (json) {
  console.log(JSON.stringify({ machine, results: results.map(({ bench, title, rows: r }) => ({ bench, title, rows: r })), misses }, null, 2));
} else {
  console.log(misses === 0 ? 'All targets met.' : `${misses} target(s) missed (see bench/RESULTS.md for why).`);
}

