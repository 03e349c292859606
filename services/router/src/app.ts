/**
 * The router as a value: `start(deps)` migrates the schema, opens the directory cache, starts
 * the HIX_IN consumer and the request sweeper, and returns `stop()`, which stops intake,
 * finishes in-flight messages and pending audit writes, then closes what it opened (not the
 * NATS connection or pool it was given: main.ts owns those).
 */
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "nats";
import type pg from "pg";
import {
  ensureStreams,
  startConsumer,
  type ConsumerStats,
  type StreamOptions,
  type Topology,
  createBatchedPublisher,
} from "@hix/bus";
import { createPool, migrate } from "@hix/db";
import { HixError, isRetryable, type Logger } from "@hix/runtime";
import { newId } from "@hix/proto";
import { createAuditLedger } from "./audit-ledger.js";
import { openDirectory } from "./directory.js";
import { natsLocator, type Locator } from "./locate.js";
import { ROUTER_CONCURRENCY } from "./config.js";
import { createPipeline } from "./pipeline.js";
import { startSweeper } from "./request-tracker.js";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));
export const MIGRATIONS_TABLE = "router_migrations";

/** Brings the router's schema (directory, ledger, requests) up to date; safe from every replica. */
export async function migrateRouterSchema(pool: pg.Pool, logger?: Logger): Promise<void> {
  await migrate(pool, {
    dir: MIGRATIONS_DIR,
    table: MIGRATIONS_TABLE,
    ...(logger === undefined ? {} : { log: logger }),
  });
}

export interface RouterDeps {
  readonly nc: NatsConnection;
  readonly pool: pg.Pool;
  /** For the directory's LISTEN connection. */
  readonly databaseUrl: string;
  readonly topology: Topology;
  readonly logger: Logger;
  readonly patientHashKey: string;
  readonly durable?: string;
  readonly concurrency?: number;
  readonly maxMessageBytes?: number;
  readonly locateTimeoutMs?: number;
  readonly sweepIntervalMs?: number;
  readonly directoryRefreshMs?: number;
  readonly defaultDeadlineMs?: number;
  readonly ackWaitMs?: number;
  /** Stream settings when the router creates the streams (tests use memory storage). */
  readonly streamOptions?: Partial<Record<"in" | "out" | "dlq", StreamOptions>>;
  /** Replaces the NATS record locator (tests). */
  readonly locate?: Locator;
}

export interface RunningRouter {
  readonly stats: Readonly<ConsumerStats>;
  stop(): Promise<void>;
}

export async function start(deps: RouterDeps): Promise<RunningRouter> {
  const log = deps.logger;
  await migrateRouterSchema(deps.pool, log);
  const jsm = await deps.nc.jetstreamManager();
  const js = deps.nc.jetstream();
  await ensureStreams(jsm, deps.topology, deps.streamOptions);

  const directory = await openDirectory({
    pool: deps.pool,
    databaseUrl: deps.databaseUrl,
    logger: log,
    refreshMs: deps.directoryRefreshMs ?? 30_000,
  });
  const audit = createAuditLedger({ pool: deps.pool, logger: log, newId });
  const publisher = createBatchedPublisher(deps.nc);
  const handler = createPipeline({
    js,
    publish: publisher.publish,
    pool: deps.pool,
    topology: deps.topology,
    directory,
    audit,
    locate: deps.locate ?? natsLocator(deps.nc, deps.topology, deps.locateTimeoutMs ?? 2000),
    logger: log,
    maxMessageBytes: deps.maxMessageBytes ?? 512 * 1024,
    defaultDeadlineMs: deps.defaultDeadlineMs ?? 72 * 3600 * 1000,
    patientHashKey: deps.patientHashKey,
  });
  const consumer = await startConsumer({
    js,
    jsm,
    topology: deps.topology,
    stream: deps.topology.streams.in.name,
    durable: deps.durable ?? "router",
    handler,
    logger: log,
    concurrency: deps.concurrency ?? ROUTER_CONCURRENCY,
    ...(deps.ackWaitMs === undefined ? {} : { ackWaitMs: deps.ackWaitMs }),
  });
  const sweeper = startSweeper({
    pool: deps.pool,
    js,
    topology: deps.topology,
    logger: log,
    intervalMs: deps.sweepIntervalMs ?? 5000,
  });
  log.info({ facilities: directory.size, durable: deps.durable ?? "router" }, "router started");

  let stopped: Promise<void> | undefined;
  return {
    stats: consumer.stats,
    stop() {
      stopped ??= (async () => {
        await consumer.stop();
        await sweeper.stop();
        await publisher.close();
        await audit.close();
        await directory.close();
        log.info({ ...consumer.stats }, "router stopped");
      })();
      return stopped;
    },
  };
}

/**
 * A small pool on the router's database with the schema brought up to date, for tools (the
 * `hix facility | request | audit` commands). An unreachable server is `router.db.unavailable`.
 */
export async function openRouterDatabase(url: string): Promise<pg.Pool> {
  const pool = createPool(url, { max: 2, applicationName: "hix-cli", connectionTimeoutMillis: 5000 });
  try {
    await migrateRouterSchema(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (isRetryable(err)) {
      throw new HixError("router.db.unavailable", "the router database could not be reached", { cause: err });
    }
    throw err;
  }
  return pool;
}
