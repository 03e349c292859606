import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { HixError } from "@hix/runtime";
import { REPO_ROOT } from "./paths.js";

export interface ServiceSpec {
  /** Shown in logs and messages, e.g. `router`, `adapter:hospital-a`. */
  readonly name: string;
  /** `router`, `reconciler` or `adapter` — the folder under services/. */
  readonly service: string;
  readonly env: Readonly<Record<string, string>>;
}

export interface RunningProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts a service from its sources as a child process (services never import each other,
 * and neither does the CLI: it starts them by path). Its JSON log lines go to
 * `logDir/<name>.log` (and to `onLine`); resolves once it logs "service started", rejects
 * with the last log lines if it exits first or does not start within `startTimeoutMs`.
 */
export async function startService(
  spec: ServiceSpec,
  options: { logDir: string; startTimeoutMs?: number; onLine?: (name: string, line: string) => void },
): Promise<RunningProcess> {
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${spec.name.replace(/[^A-Za-z0-9_-]/g, "_")}.log`);
  const log: WriteStream = createWriteStream(logFile, { flags: "a" });
  const main = join(REPO_ROOT, "services", spec.service, "src", "main.ts");
  const child = spawn(process.execPath, ["--conditions=@hix/source", "--import", "tsx", main], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: a Ctrl-C in the terminal reaches `hix up` alone, which then stops
    // each service once, in order, with SIGTERM (a second signal would make it skip draining).
    detached: true,
  });
  const recent: string[] = [];
  let started = false;
  let markStarted!: () => void;
  const startedPromise = new Promise<void>((resolve) => (markStarted = resolve));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      log.write(`${line}\n`);
      recent.push(line);
      if (recent.length > 20) recent.shift();
      options.onLine?.(spec.name, line);
      if (!started && line.includes('"msg":"service started"')) {
        started = true;
        markStarted();
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    startedPromise.then(() => "started" as const),
    exited.then(() => "exited" as const),
    new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== "started") {
    child.kill("SIGKILL");
    throw new HixError(
      "stack.service_failed",
      `${spec.name} ${outcome === "exited" ? "exited during start" : `did not start within ${timeoutMs} ms`}; ` +
        `last log lines in ${logFile}:\n${recent
          .slice(-5)
          .map((l) => `    ${summarize(l)}`)
          .join("\n")}`,
    );
  }
  return {
    name: spec.name,
    child,
    logFile,
    async stop(graceMs) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
}

/** One readable line from a pino JSON line: level, message, and its error code if any. */
export function summarize(line: string): string {
  try {
    const record = JSON.parse(line) as {
      level?: string;
      msg?: string;
      err?: { code?: string; message?: string };
    };
    const err = record.err === undefined ? "" : ` (${record.err.code ?? ""} ${record.err.message ?? ""})`;
    return `${record.level ?? "?"}: ${record.msg ?? ""}${err}`;
  } catch {
    return line.slice(0, 200);
  }
}
