// `pnpm eval <name>` runs an accuracy evaluation and prints its figures as JSON on stdout.
const [name, ...args] = process.argv.slice(2);
const evaluations: Record<string, (args: readonly string[]) => Promise<Record<string, unknown>>> = {
  linkage: async (args) => (await import("./linkage.js")).run(args),
};
const evaluation = name === undefined ? undefined : evaluations[name];
if (evaluation === undefined) {
  console.error(`usage: pnpm eval <name>\nevaluations: ${Object.keys(evaluations).sort().join(", ")}`);
  process.exit(name === undefined ? 0 : 2);
}
console.log(
  JSON.stringify({ evaluation: name, date: new Date().toISOString(), ...(await evaluation(args)) }, null, 2),
);
