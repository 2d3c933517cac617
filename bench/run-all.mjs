// `npm run bench`: every benchmark, one after the other, each against its baseline measured
// side by side in the same run. Prints Markdown tables (the body of bench/RESULTS.md).
// Run one alone with `node bench/<name>.mjs` after `npm run build`.
import os from 'node:os';

const benches = ['checkpoint', 'restore', 'cold-start', 'store-scale'];
const only = process.argv.slice(2);

console.log(`kms-recover benchmarks — ${new Date().toISOString()}, ${os.cpus().length} cores, node ${process.version}, ${os.platform()} ${os.release()}, tmp ${os.tmpdir()}\n`);
let misses = 0;
for (const name of benches.filter((b) => only.length === 0 || only.includes(b))) {
  const { bench } = await import(`./${name}.mjs`);
  const output = await bench();
  console.log(`${output}\n`);
  misses += (output.match(/\| MISS \|/g) ?? []).length;
}
console.log(misses === 0 ? 'All targets met.' : `${misses} target(s) missed (see bench/RESULTS.md for why).`);
