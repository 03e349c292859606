import { join } from "node:path";
import { PassThrough } from "node:stream";
import { HixError } from "@hix/runtime";
import type { Command } from "../command.js";
import { ensureNats, type LocalNats } from "./nats.js";
import { ensurePostgres, type LocalPostgres } from "./postgres.js";
import { startService, type RunningProcess } from "./processes.js";
import type { ExchangeConfig, FacilityConfig } from "./exchange-config.js";

export interface Stack {
  readonly natsUrl: string;
  readonly databaseUrl: string;
  readonly postgresKind: "external" | "embedded";
  readonly topologyPrefix: string;
  readonly logDir: string;
  readonly services: readonly RunningProcess[];
  /** Stops adapters, reconciler, router (each drains), then the NATS and PostgreSQL it started. */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** A step happened (shown by `hix up` and the demo's timeline). */
  readonly onStep?: (text: string) => void;
  readonly onLine?: (service: string, line: string) => void;
  readonly logLevel?: string;
  readonly graceMs?: number;
  /** Registers facilities in the directory; `hix up` passes the `facility add` command. */
  readonly registerFacility: (facility: FacilityConfig, databaseUrl: string) => Promise<void>;
}

/**
 * Brings the whole exchange up locally: NATS and PostgreSQL (used if reachable, else started),
 * then the router, the directory entries, the reconciler and one adapter per facility — each
 * service a child process of this one. Anything that fails to start stops what already runs.
 */
export async function startStack(config: ExchangeConfig, options: StackOptions): Promise<Stack> {
  const step = options.onStep ?? (() => undefined);
  const graceMs = options.graceMs ?? 15_000;
  const logDir = join(config.dataDir, "logs");
  const started: RunningProcess[] = [];
  let nats: LocalNats | undefined;
  let pg: LocalPostgres | undefined;

  const stopAll = async (): Promise<void> => {
    for (const service of [...started].reverse()) await service.stop(graceMs);
    await pg?.stop();
    await nats?.stop();
  };

  try {
    nats = await ensureNats(config.natsUrl, config.dataDir);
    step(nats.process === undefined ? `NATS answering at ${nats.url}` : `started nats-server at ${nats.url}`);
    pg = await ensurePostgres(config.databaseUrl, config.dataDir, config.embeddedPostgresPort);
    step(
      pg.kind === "external" ? "PostgreSQL answering" : `started embedded PostgreSQL (PGlite) on ${pg.url}`,
    );

    const common = {
      HIX_NATS_URL: nats.url,
      HIX_TOPOLOGY_PREFIX: config.topologyPrefix,
      HIX_LOG_LEVEL: options.logLevel ?? "info",
      HIX_STOP_GRACE_MS: String(graceMs),
    };
    const launch = async (name: string, service: string, env: Record<string, string>): Promise<void> => {
      started.push(
        await startService(
          { name, service, env: { ...common, ...env } },
          { logDir, ...(options.onLine === undefined ? {} : { onLine: options.onLine }) },
        ),
      );
      step(`${name} started`);
    };

    // Directory first, so the router starts with it (the embedded PostgreSQL has no LISTEN/NOTIFY
    // across connections; there the router sees later changes by its periodic refresh).
    for (const facility of config.facilities) {
      await options.registerFacility(facility, pg.url);
      step(`facility ${facility.id} in the directory`);
    }
    await launch("router", "router", {
      HIX_DATABASE_URL: pg.url,
      HIX_AUDIT_PATIENT_KEY: config.auditPatientKey,
      HIX_ROUTER_SWEEP_INTERVAL_MS: "1000",
      ...(pg.kind === "embedded"
        ? { HIX_ROUTER_DB_POOL_MAX: "2", HIX_ROUTER_DIRECTORY_REFRESH_MS: "2000" }
        : {}),
    });
    await launch("reconciler", "reconciler", {
      HIX_DATABASE_URL: pg.url,
      HIX_RECONCILER_ALERT_FLUSH_MS: "500",
      ...(pg.kind === "embedded" ? { HIX_RECONCILER_DB_POOL_MAX: "2" } : {}),
    });
    for (const facility of config.facilities) {
      await launch(`adapter:${facility.id}`, "adapter", {
        HIX_ADAPTER_PROFILE: facility.profile,
        HIX_ADAPTER_NAME: `adapter-${facility.id}`,
      });
    }
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }

  const databaseUrl = pg.url;
  return {
    natsUrl: nats.url,
    databaseUrl,
    postgresKind: pg.kind,
    topologyPrefix: config.topologyPrefix,
    logDir,
    services: started,
    stop: stopAll,
  };
}

/** Runs a `hix` command in-process (e.g. `facility add`), failing with its stderr. */
export async function runCommand(
  command: Command,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const errs: string[] = [];
  stdout.on("data", (c: Buffer) => out.push(c.toString("utf8")));
  stderr.on("data", (c: Buffer) => errs.push(c.toString("utf8")));
  const code = await command.run(args, { stdout, stderr, stdin: process.stdin, env, cwd: process.cwd() });
  if (code !== 0) {
    throw new HixError(
      "stack.command_failed",
      `hix ${command.path.join(" ")} failed: ${errs.join("").trim()}`,
    );
  }
  return out.join("");
}
