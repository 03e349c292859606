import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { connect } from "nats";
import { HixError } from "@hix/runtime";
import { REPO_ROOT } from "./paths.js";

export interface LocalNats {
  readonly url: string;
  /** Set when `hix up` started the server itself. */
  readonly process: ChildProcess | undefined;
  stop(): Promise<void>;
}

/** Whether a NATS server with JetStream answers at `url`. */
export async function natsAnswers(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 1500, maxReconnectAttempts: 0 });
    try {
      await (await nc.jetstreamManager()).getAccountInfo();
      return true;
    } finally {
      await nc.close();
    }
  } catch {
    return false;
  }
}

/**
 * Uses the NATS at `url` if it answers; otherwise starts a local `nats-server` with
 * JetStream (the one on PATH or /usr/sbin, else one fetched by `pnpm nats:fetch`) on
 * that URL's loopback port, storing in `dataDir`. Without a binary, says how to get one.
 */
export async function ensureNats(url: string, dataDir: string): Promise<LocalNats> {
  if (await natsAnswers(url)) return { url, process: undefined, stop: async () => undefined };
  const { hostname, port } = new URL(url);
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(hostname)) {
    throw new HixError(
      "stack.nats_unavailable",
      `NATS does not answer at ${url}, and hix up only starts one on loopback`,
    );
  }
  const binary = findNatsServer();
  if (binary === undefined) {
    throw new HixError(
      "stack.nats_unavailable",
      `NATS does not answer at ${url} and no nats-server is installed: ` +
        "install it (apt-get install nats-server) or run `pnpm nats:fetch`, or point --nats-url at a running server",
    );
  }
  const storeDir = join(dataDir, "nats");
  mkdirSync(storeDir, { recursive: true });
  const child = spawn(binary, ["-a", "127.0.0.1", "-p", port || "4222", "-js", "-sd", storeDir], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stderr: string[] = [];
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await natsAnswers(url)) {
      return {
        url,
        process: child,
        stop: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGTERM");
          await exited;
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new HixError(
    "stack.nats_unavailable",
    `started ${binary} but it did not answer at ${url}: ${stderr.join("").split("\n").slice(-3).join(" ").trim()}`,
  );
}

function findNatsServer(): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(":").concat("/usr/sbin", "/usr/local/sbin")) {
    const candidate = join(dir, "nats-server");
    if (dir !== "" && existsSync(candidate)) return candidate;
  }
  const tools = join(REPO_ROOT, ".tools");
  if (existsSync(tools)) {
    const fetched = readdirSync(tools)
      .filter((d) => d.startsWith("nats-server-"))
      .sort()
      .map((d) => join(tools, d, "usr/sbin/nats-server"))
      .filter((p) => existsSync(p));
    return fetched.at(-1);
  }
  return undefined;
}
