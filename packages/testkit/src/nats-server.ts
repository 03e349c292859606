import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { connect } from "nats";
import { TestkitError } from "./errors.js";
import { onProcessExit } from "./exit-cleanup.js";
import { repoRoot } from "./repo-root.js";

/**
 * nats-server processes of our own, for tests that need more than the shared server gives:
 * a current version, a cluster, killing and restarting a node, a private store dir.
 * "current" is the version fetched into .tools/ by scripts/fetch-nats-server.sh (run on
 * demand); "system" is the distribution's /usr/sbin/nats-server.
 */

export interface StartNatsServerOptions {
  /** Enable JetStream (default true). */
  jetstream?: boolean;
  /** Which binary: the fetched current one (default) or the system one. */
  version?: "current" | "system";
  /** JetStream store dir; default a fresh temp dir, removed on stop(). A given dir is left in place. */
  storeDir?: string;
  /** `jetstream.sync_interval` (2.10+): "always" fsyncs every write; else a duration like "2s". */
  syncInterval?: "always" | (string & {});
  /** Appended verbatim to the generated config. */
  extraConfig?: string;
  /** Client port; default a free loopback port. */
  port?: number;
  /** `server_name`; default a unique one. */
  serverName?: string;
  /**
   * Run this config file as it is instead of a generated one (e.g. a rewritten deploy/nats
   * config). It must listen on 127.0.0.1:`port`, so `port` is required with it; the options
   * above that shape the generated config are then ignored.
   */
  configFile?: string;
  /** Extra environment for the server process (config files may reference `$VARS`). */
  env?: Record<string, string>;
}

export interface TestNatsServer {
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Process id of the current incarnation (changes on restart()). */
  readonly pid: number;
  readonly serverName: string;
  /** Graceful stop (SIGTERM, then SIGKILL after 10 s); removes the temp dir. */
  stop(): Promise<void>;
  /**
   * Sends a signal (default SIGKILL); keeps the store for restart(). Waits for the exit, except
   * for signals after which the server keeps running: SIGSTOP/SIGCONT (freeze/thaw a node),
   * SIGHUP (reload config), SIGUSR1 (reopen log), SIGUSR2 (enter lame-duck mode).
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it if running, then starts it again on the same port with the same store. */
  restart(): Promise<void>;
}

export interface TestNatsCluster {
  readonly urls: string[];
  readonly servers: TestNatsServer[];
  stop(): Promise<void>;
}

const SYSTEM_BINARY = "/usr/sbin/nats-server";
const NON_TERMINATING: ReadonlySet<NodeJS.Signals> = new Set([
  "SIGSTOP",
  "SIGCONT",
  "SIGHUP",
  "SIGUSR1",
  "SIGUSR2",
]);
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

let currentBinaryPromise: Promise<string> | undefined;

/** Path of the current nats-server, fetching it into .tools/ first if it is missing. */
export function currentNatsServerBinary(): Promise<string> {
  currentBinaryPromise ??= fetchCurrentBinary();
  return currentBinaryPromise;
}

async function fetchCurrentBinary(): Promise<string> {
  const script = join(repoRoot, "scripts", "fetch-nats-server.sh");
  try {
    // Fast (a few ms) when the binary is already there; the script serializes concurrent runs.
    const { stdout } = await promisify(execFile)("bash", [script], { timeout: 300_000 });
    const binary = stdout.trim().split("\n").pop() ?? "";
    if (!existsSync(binary)) throw new Error(`script printed no binary path (got "${binary}")`);
    return binary;
  } catch (err) {
    currentBinaryPromise = undefined;
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new TestkitError(
      "testkit.no_current_nats_server",
      `could not fetch the current nats-server with ${script}` +
        (stderr ? `: ${stderr.split("\n").slice(-3).join(" | ")}` : "") +
        ". Run `pnpm nats:fetch` to see why.",
      { cause: err },
    );
  }
}

/** Starts a nats-server on loopback and resolves once it accepts client connections. */
export async function startNatsServer(opts: StartNatsServerOptions = {}): Promise<TestNatsServer> {
  const binary = opts.version === "system" ? SYSTEM_BINARY : await currentNatsServerBinary();
  if (!existsSync(binary)) {
    throw new TestkitError(
      "testkit.no_system_nats_server",
      `${binary} not found: install it with \`apt-get install nats-server\` or use version "current"`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "hix-nats-"));
  const storeDir = opts.storeDir ?? join(dir, "jetstream");
  if (opts.configFile !== undefined && opts.port === undefined) {
    throw new TestkitError("testkit.bad_options", "startNatsServer: configFile needs the port it listens on");
  }
  const port = opts.port ?? (await freePort());
  const serverName = opts.serverName ?? `hix-t-${port}`;
  const logFile = join(dir, "nats.log");
  let configFile = opts.configFile;
  if (configFile === undefined) {
    configFile = join(dir, "nats.conf");
    writeFileSync(configFile, renderConfig({ ...opts, port, storeDir, serverName }));
  }
  const config = configFile;
  const env = opts.env === undefined ? process.env : { ...process.env, ...opts.env };

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    const logFd = openSync(logFile, "a");
    const proc = spawn(binary, ["-c", config], { stdio: ["ignore", logFd, logFd], env });
    closeSync(logFd);
    child = proc;
    exited = new Promise((resolve) => {
      proc.once("exit", () => resolve());
      // A spawn failure (e.g. EACCES) emits "error" and no "exit".
      proc.once("error", () => resolve());
    });
    try {
      await waitUntilAccepting(port, proc, READY_TIMEOUT_MS);
    } catch (err) {
      proc.kill("SIGKILL");
      await exited;
      throw new TestkitError(
        "testkit.nats_server_not_ready",
        `nats-server ${serverName} did not accept connections on 127.0.0.1:${port}: ${(err as Error).message}; ` +
          `log tail: ${tail(logFile)}`,
        { cause: err },
      );
    }
  };

  const halt = async (signal: NodeJS.Signals, timeoutMs: number): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    // A node frozen with SIGSTOP acts on SIGTERM only once thawed.
    if (signal !== "SIGKILL") proc.kill("SIGCONT");
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  };

  const removeFiles = (): void => {
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onProcessExit(() => {
    child?.kill("SIGKILL");
    removeFiles();
  });

  try {
    await launch();
  } catch (err) {
    unregister();
    removeFiles();
    throw err;
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    serverName,
    get pid() {
      return child?.pid ?? -1;
    },
    async stop() {
      await halt("SIGTERM", STOP_TIMEOUT_MS);
      unregister();
      removeFiles();
    },
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (NON_TERMINATING.has(signal)) {
        child?.kill(signal);
        return;
      }
      await halt(signal, STOP_TIMEOUT_MS);
    },
    async restart() {
      await halt("SIGTERM", STOP_TIMEOUT_MS);
      await launch();
    },
  };
}

/**
 * A JetStream cluster of `size` current nats-servers routed on loopback, resolved once a
 * JetStream meta leader is elected (so R3 streams can be created right away).
 */
export async function startNatsCluster(
  opts: { size?: number; syncInterval?: string } = {},
): Promise<TestNatsCluster> {
  const size = opts.size ?? 3;
  const clientPorts = await freePorts(size);
  const routePorts = await freePorts(size);
  const clusterName = `hix_t_cluster_${clientPorts[0]}`;
  const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(", ");
  const started = await Promise.allSettled(
    clientPorts.map((port, i) =>
      startNatsServer({
        port,
        serverName: `${clusterName}_n${i + 1}`,
        ...(opts.syncInterval === undefined ? {} : { syncInterval: opts.syncInterval }),
        // Every node lists every route, itself included; the server skips the self-route.
        extraConfig: `cluster {\n  name: ${clusterName}\n  listen: 127.0.0.1:${routePorts[i]}\n  routes: [${routes}]\n}\n`,
      }),
    ),
  );
  const servers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  const failure = started.find((r) => r.status === "rejected");
  if (failure) {
    await stop();
    throw failure.reason;
  }
  const urls = servers.map((s) => s.url);
  try {
    await waitForJetStream(urls, READY_TIMEOUT_MS * 2, size);
  } catch (err) {
    await stop();
    throw err;
  }
  return { urls, servers, stop };
}

/**
 * Resolves once the JetStream API answers account info, which in a cluster needs an elected
 * meta leader. With `replicas` > 1 it also waits until the meta leader knows enough peers to
 * place a stream of that many replicas (it may be elected before all peers have joined), by
 * creating and deleting a probe stream.
 */
export async function waitForJetStream(
  servers: string | string[],
  timeoutMs = READY_TIMEOUT_MS,
  replicas = 1,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const nc = await connect({ servers, timeout: 2000 });
  try {
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        const jsm = await nc.jetstreamManager({ timeout: 2000 });
        await jsm.getAccountInfo();
        if (replicas > 1) {
          const probe = `HIX_T_probe_${process.pid}_${Date.now()}`;
          await jsm.streams.add({ name: probe, subjects: [`${probe}.>`], num_replicas: replicas });
          await jsm.streams.delete(probe);
        }
        return;
      } catch (err) {
        lastError = err;
        await sleep(200);
      }
    }
    throw new TestkitError(
      "testkit.jetstream_not_ready",
      `JetStream did not become available at ${String(servers)} within ${timeoutMs} ms: ${(lastError as Error | undefined)?.message ?? "no answer"}`,
      { cause: lastError },
    );
  } finally {
    await nc.close();
  }
}

function renderConfig(
  o: StartNatsServerOptions & { port: number; storeDir: string; serverName: string },
): string {
  const lines = [
    "# Generated by @hix/testkit for one test server; removed on stop().",
    `server_name: ${o.serverName}`,
    `listen: 127.0.0.1:${o.port}`,
  ];
  if (o.jetstream ?? true) {
    lines.push("jetstream {", `  store_dir: ${JSON.stringify(o.storeDir)}`);
    if (o.syncInterval !== undefined) lines.push(`  sync_interval: ${o.syncInterval}`);
    lines.push("}");
  }
  if (o.extraConfig) lines.push(o.extraConfig);
  return `${lines.join("\n")}\n`;
}

/** Polls until a TCP client on the port receives the server's INFO line. */
async function waitUntilAccepting(port: number, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) {
      throw new Error(`process exited (code ${proc.exitCode}, signal ${proc.signalCode})`);
    }
    if (await receivesInfo(port)) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms`);
}

function receivesInfo(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("data", (chunk: Buffer) => done(chunk.toString("latin1").startsWith("INFO ")));
    socket.connect(port, "127.0.0.1");
  });
}

/** A port nothing listens on right now (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-5).join(" | ") || "(empty)";
  } catch {
    return "(no log)";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
