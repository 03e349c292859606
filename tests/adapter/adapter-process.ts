// Test-only: runs services/adapter as a real child process (the way it is deployed), so tests
// can kill it with SIGKILL and watch what a sender sees. Log lines are collected as JSON.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../services/adapter/src/main.ts", import.meta.url));

export interface AdapterProcess {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly logs: Record<string, unknown>[];
  readonly mllpPort: number;
  /** Resolves when a log line matching `msg` appears. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startAdapterProcess(options: {
  profile: Record<string, unknown>;
  natsUrl: string;
  prefix: string;
  env?: Record<string, string>;
}): Promise<AdapterProcess> {
  const dir = await mkdtemp(join(tmpdir(), "hix-adapter-"));
  const profileFile = join(dir, "profile.json");
  await writeFile(profileFile, JSON.stringify(options.profile, null, 2));
  const child = spawn(process.execPath, ["--conditions=@hix/source", "--import", "tsx", MAIN], {
    env: {
      ...process.env,
      HIX_ADAPTER_PROFILE: profileFile,
      HIX_NATS_URL: options.natsUrl,
      HIX_TOPOLOGY_PREFIX: options.prefix,
      HIX_ADAPTER_ENSURE_STREAMS: "true",
      HIX_LOG_LEVEL: "debug",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        logs.push(parsed);
        for (const w of waiters.filter((x) => x.msg === parsed["msg"])) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      } catch {
        // not a log line
      }
    }
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const waitForLog = (msg: string, timeoutMs = 20_000): Promise<Record<string, unknown>> => {
    const found = logs.find((l) => l["msg"] === msg);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`adapter did not log "${msg}" within ${timeoutMs} ms; stderr: ${stderr.slice(0, 500)}`),
          ),
        timeoutMs,
      );
      waiters.push({
        msg,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  };
  const started = await waitForLog("MLLP listener started");
  return {
    child,
    dir,
    logs,
    mllpPort: Number(started["port"]),
    waitForLog,
    async kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    async cleanup() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
