// `pnpm bench <name> [options]` runs one benchmark and prints its figures as JSON on stdout.
// Every benchmark measures hix against a baseline in the same run and reports the ratio,
// so figures from different machines stay comparable. Progress goes to stderr.
import os from "node:os";
import { benchmarks } from "./registry.js";

const [name, ...args] = process.argv.slice(2);
const bench = name === undefined ? undefined : benchmarks[name];
if (bench === undefined) {
  const names = Object.keys(benchmarks).sort().join(", ");
  console.error(`usage: pnpm bench <name> [options]\nbenchmarks: ${names}`);
  process.exit(name === undefined || name === "--help" ? 0 : 2);
}
const result = await bench.run(args);
const cpus = os.cpus();
const machine = {
  node: process.version,
  cpus: cpus.length,
  cpuModel: cpus[0]?.model ?? "unknown",
  totalMemGiB: Math.round(os.totalmem() / 2 ** 30),
};
console.log(JSON.stringify({ benchmark: name, date: new Date().toISOString(), machine, ...result }, null, 2));
process.exit(0);
