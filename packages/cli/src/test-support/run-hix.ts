// Runs the `hix` command as a user would: a child process of bin/hix.js.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const HIX_BIN = fileURLToPath(new URL("../../bin/hix.js", import.meta.url));

export interface HixResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hix args…` to completion. */
export function runHix(
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string; cwd?: string } = {},
): Promise<HixResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HIX_BIN, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd ?? process.cwd(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** Starts `hix args…` and hands back the process with its output so far. */
export function startHix(
  args: readonly string[],
  env: Record<string, string> = {},
): { child: ChildProcess; output: () => string; errors: () => string } {
  const child = spawn(process.execPath, [HIX_BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  return { child, output: () => stdout, errors: () => stderr };
}
