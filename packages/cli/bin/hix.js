#!/usr/bin/env node
// The `hix` command. Runs the TypeScript sources through tsx with the @hix/source export
// condition, so a fresh checkout needs no build step; exit code and signals pass through.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
// Resolved from this package, not from the caller's working directory.
const tsx = import.meta.resolve("tsx");
const child = spawn(
  process.execPath,
  [
    "--conditions=@hix/source",
    "--import",
    tsx,
    "--no-warnings=ExperimentalWarning",
    main,
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
